// SHA-256 of 64 B messages as `supervm calibrate` fitted it on the H100 (work = bytes, ms):
// the curves the scheduler probes without a GPU (sched-path.mjs, cost-model-overhead.mjs) seed their models with.
export const cpuMs = (w) => 0.05 + w * 1.0e-6;
export const gpuMs = (w) => 0.42 + w * 1.5e-7;
