/** JSON schemas of the request bodies (validated by fastify's Ajv before a handler runs). */

/** Any whole number of bytes as hex. */
export const HEX = { type: 'string', pattern: '^(?:[0-9a-fA-F]{2})*$' } as const;
/** 32-byte Ed25519 public key. */
export const HEX_PUBLIC_KEY = { type: 'string', pattern: '^[0-9a-fA-F]{64}$' } as const;
/** 64-byte Ed25519 signature R || S. */
export const HEX_SIGNATURE = { type: 'string', pattern: '^[0-9a-fA-F]{128}$' } as const;

/** `{messages: [hex, ...]}` */
export function sha256JsonSchema(maxItems: number) {
  return {
    type: 'object',
    required: ['messages'],
    additionalProperties: false,
    properties: { messages: { type: 'array', maxItems, items: HEX } },
  } as const;
}

/** `{items: [{message, publicKey, signature}, ...]}` or columns `{messages, publicKeys, signatures}`. */
export function ed25519JsonSchema(maxItems: number) {
  return {
    type: 'object',
    additionalProperties: false,
    properties: {
      items: {
        type: 'array',
        maxItems,
        items: {
          type: 'object',
          required: ['message', 'publicKey', 'signature'],
          additionalProperties: false,
          properties: { message: HEX, publicKey: HEX_PUBLIC_KEY, signature: HEX_SIGNATURE },
        },
      },
      messages: { type: 'array', maxItems, items: HEX },
      publicKeys: { type: 'array', maxItems, items: HEX_PUBLIC_KEY },
      signatures: { type: 'array', maxItems, items: HEX_SIGNATURE },
    },
  } as const;
}

/** `?device=auto|cpu|gpu` */
export const DEVICE_QUERY = {
  type: 'object',
  properties: { device: { type: 'string', enum: ['auto', 'cpu', 'gpu'] } },
} as const;
