// Worker side of scripts/gang-proto.mjs: sleeps on the generation word, spins
// `spinMs` after each batch first; a new generation's job (if new) is read from
// the port synchronously, then parts are claimed from shared memory.
import { receiveMessageOnPort, workerData } from 'node:worker_threads';

const { control, port, spinMs, index, times } = workerData;
// times: Float64Array; [0] batch start (absolute ms, by the main thread); per worker 1 + 4w: first claim, last finish, busy ms, items.
const now = () => performance.timeOrigin + performance.now();
// Words: GEN, job id, parts; FIN; then per generation slot (gen % 8) its claim and done counters,
// so a worker still leaving an old generation never claims from a new one.
const GEN = 0, FIN = 48, slotNext = (g) => 64 + (g % 8) * 32, slotDone = (g) => 80 + (g % 8) * 32;
const jobs = new Map();
let job;
let gen = 0;
for (;;) {
  const until = performance.now() + spinMs;
  while (Atomics.load(control, GEN) === gen && performance.now() < until);
  if (Atomics.load(control, GEN) === gen) Atomics.wait(control, GEN, gen);
  gen = Atomics.load(control, GEN);
  if (gen < 0) break;
  for (let m; (m = receiveMessageOnPort(port)); ) {
    const j = m.message;
    const mod = await import(j.moduleUrl);
    jobs.set(j.id, { ...j, kernel: mod.kernel, output: mod.kernel.createOutput(j.items, j.output) });
  }
  job = jobs.get(control[1]);
  const { bounds, kernel, columns, output } = job;
  const parts = control[2];
  const at = 1 + 4 * index;
  times[at] = 0; times[at + 1] = 0; times[at + 2] = 0; times[at + 3] = 0;
  for (;;) {
    const p = Atomics.add(control, slotNext(gen), 1);
    if (p >= parts) break;
    const t0 = now();
    if (times[at] === 0) times[at] = t0;
    kernel.cpu(columns, output, bounds[p], bounds[p + 1]);
    const t1 = now();
    times[at + 1] = t1; times[at + 2] += t1 - t0; times[at + 3] += bounds[p + 1] - bounds[p];
    if (Atomics.add(control, slotDone(gen), 1) === parts - 1) {
      Atomics.store(control, FIN, gen);
      Atomics.notify(control, FIN);
    }
  }
}
