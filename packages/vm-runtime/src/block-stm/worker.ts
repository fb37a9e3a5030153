/**
 * Worker-thread entry of a BlockStmPool: warms up, reports ready, then sleeps
 * in Atomics.wait on the pool's generation word. Each raise of it means jobs
 * wait on this worker's port; they are read synchronously (no event loop in
 * the way) and each is acked with its generation once this thread's share of
 * the block is over.
 */
import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import { runWorker } from './engine.js';
import { warmUp, type Job, type WorkerInit } from './parallel.js';

const LINE = 16; // parallel.ts's control layout: GEN at 0, worker i's ack at (1 + i) * LINE
const GEN = 0;
const CLOSE = -1;

const { control, port, index } = workerData as WorkerInit;
const ack = (1 + index) * LINE;
warmUp(true);
parentPort!.postMessage('ready');
let seen = 0;
for (;;) {
  Atomics.wait(control, GEN, seen);
  const gen = Atomics.load(control, GEN);
  if (gen === CLOSE) break;
  seen = gen;
  for (let m = receiveMessageOnPort(port); m !== undefined; m = receiveMessageOnPort(port)) {
    const job = m.message as Job;
    try {
      runWorker(job.tables, job.run, job.thread);
    } catch (err) {
      // Before the ack, so the pool finds it when it sees the ack.
      port.postMessage(err instanceof Error ? (err.stack ?? err.message) : String(err));
    }
    Atomics.store(control, ack, job.gen);
    Atomics.notify(control, ack);
  }
}
port.close();
