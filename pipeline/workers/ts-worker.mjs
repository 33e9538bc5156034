// Entry of the pipeline's prepare threads: registers tsx's loader in the thread, then loads the
// TypeScript worker. Node 20 does not pass a loader registered in the main thread (or `--import tsx`
// in the worker's execArgv) on to worker threads.
import { register } from "tsx/esm/api";

register();
await import("./prepare-worker.ts");
