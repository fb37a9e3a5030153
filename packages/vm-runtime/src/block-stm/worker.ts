/**
 * Worker-thread entry of a BlockStmPool: warms up, reports ready, then sleeps
 * in Atomics.wait on its own wake word. Each raise of it means a job waits on
 * this worker's port (read synchronously, no event loop in the way), or the
 * pool is closing; each job is acked with its generation once this thread's
 * share of the block is over.
 */
import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import { runThread } from './engine.js';
import { warmUp, type Job, type WorkerInit } from './parallel.js';

const GEN = 0; // parallel.ts's control layout: CLOSE there stops the worker
const CLOSE = -1;

const { control, port, ack, wake } = workerData as WorkerInit;
warmUp(true);
parentPort!.postMessage('ready');

/** Runs the jobs waiting on the port. */
function runJobs(): void {
  for (let m = receiveMessageOnPort(port); m !== undefined; m = receiveMessageOnPort(port)) {
    const job = m.message as Job;
    try {
      runThread(job.tables, job.run, job.thread);
    } catch (err) {
      // Before the ack, so the pool finds it when it sees the ack.
      port.postMessage(err instanceof Error ? (err.stack ?? err.message) : String(err));
    }
    Atomics.store(control, ack, job.gen);
    Atomics.notify(control, ack);
  }
}

let seen = 0;
for (;;) {
  Atomics.wait(control, wake, seen);
  seen = Atomics.load(control, wake);
  if (Atomics.load(control, GEN) === CLOSE) break;
  runJobs();
}
port.close();
