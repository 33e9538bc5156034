/**
 * Worker thread of the prepare pool (prepare-pool.ts): decodes, parses, validates and dedups one
 * archive object (transfer.ts, prepareObject) and sends the result back without copying its bytes.
 */
import { parentPort } from "node:worker_threads";
import type { SourceChunk } from "../graph-fns.js";
import { prepareObject } from "./transfer.js";

export interface PrepareTask {
  seq: number;
  chunk: Extract<SourceChunk, { kind: "archive" }>;
  now: string;
}

if (!parentPort) throw new Error("prepare-worker.ts runs as a worker thread of pipeline/workers/prepare-pool.ts");
const port = parentPort;
port.on("message", (t: PrepareTask) => {
  try {
    const { packed, transfer } = prepareObject(t.chunk, t.now);
    port.postMessage({ seq: t.seq, ok: true, packed }, transfer);
  } catch (e) {
    port.postMessage({ seq: t.seq, ok: false, error: e instanceof Error ? e.message : String(e) });
  }
});
