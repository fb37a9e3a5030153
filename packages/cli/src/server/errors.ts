/** An error the server answers with its own status and `{error, message, index?}` body. */
export class HttpError extends Error {
  readonly statusCode: number;
  readonly code: string;
  readonly index: number | undefined;
  readonly headers: Record<string, string>;

  constructor(statusCode: number, code: string, message: string, options: { index?: number; headers?: Record<string, string> } = {}) {
    super(message);
    this.name = 'HttpError';
    this.statusCode = statusCode;
    this.code = code;
    this.index = options.index;
    this.headers = options.headers ?? {};
  }
}

/** The JSON body of every error answer. */
export interface ErrorBody {
  error: string;
  message: string;
  index?: number;
}

export function badRequest(code: string, message: string, index?: number): HttpError {
  return new HttpError(400, code, message, index === undefined ? {} : { index });
}
