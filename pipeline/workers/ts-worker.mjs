// Entry of the pipeline's worker threads: registers tsx's loader in the thread, then loads the
// TypeScript module named in workerData.entry. Node 20 does not pass a loader registered in the
// main thread (or `--import tsx` in the worker's execArgv) on to worker threads.
import { register } from "tsx/esm/api";
import { workerData } from "node:worker_threads";

register();
await import(workerData.entry);
