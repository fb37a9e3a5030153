/** Compiles each (kernel, workgroup size, constants) once per device; later batches reuse it. */
export interface PipelineKey {
  kernel: string;
  code: string;
  entryPoint: string;
  workgroupSize: number;
  layout: GPUPipelineLayout;
  constants?: Record<string, number>;
}

export class PipelineCache {
  readonly #device: GPUDevice;
  readonly #pipelines = new Map<string, GPUComputePipeline>();
  #compiles = 0;

  constructor(device: GPUDevice) {
    this.#device = device;
  }

  /** Pipelines compiled so far (a test asserts it stays at one per kernel). */
  get compiles(): number {
    return this.#compiles;
  }

  get(key: PipelineKey): GPUComputePipeline {
    const constants = { ...key.constants, WG: key.workgroupSize };
    const id = `${key.kernel}|${key.entryPoint}|${JSON.stringify(constants)}`;
    let pipeline = this.#pipelines.get(id);
    if (pipeline === undefined) {
      const module = this.#device.createShaderModule({ label: key.kernel, code: key.code });
      pipeline = this.#device.createComputePipeline({
        label: key.kernel,
        layout: key.layout,
        compute: { module, entryPoint: key.entryPoint, constants },
      });
      this.#compiles++;
      this.#pipelines.set(id, pipeline);
    }
    return pipeline;
  }
}
