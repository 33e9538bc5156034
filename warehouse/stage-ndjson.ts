/**
 * Writes rows as NDJSON for a warehouse load (DuckDB read_json, BigQuery load jobs). A row whose
 * record kept its message text (pipeline/transforms/parse.ts) is written as that text plus the
 * columns the pipeline added, not serialized again: re-serializing fifty-odd fields per row was the
 * largest cost of a commit, and records prepared on worker threads carry only the fields the
 * transforms read, so their text is the only full copy. Loads ignore members the contract drops.
 *
 * Hand-written: rows arrive as strings or as UTF-8 byte ranges of a worker's buffer, and are packed
 * into 1 MiB chunks per write; one string of the whole batch (and its UTF-8 copy) doubled the
 * memory of a large commit.
 */
import { closeSync, openSync, writeSync } from "node:fs";
import { sourceTextOf } from "../pipeline/transforms/parse.js";
import { SourcedEvent } from "../pipeline/transforms/sourced-event.js";

const CHUNK_BYTES = 1 << 20;
const CLOSE_BRACE = 0x7d;

function tailOf(r: object, columns: readonly string[]): string {
  let tail = "";
  for (const c of columns) tail += `,"${c}":${JSON.stringify((r as Record<string, unknown>)[c])}`;
  return tail + "}\n";
}

export function writeRowsNdjson(file: string, rows: readonly object[], extraColumns?: readonly string[]): void {
  const fd = openSync(file, "w");
  const buf = Buffer.allocUnsafe(CHUNK_BYTES);
  let at = 0;
  const flush = () => {
    if (at > 0) writeSync(fd, buf, 0, at);
    at = 0;
  };
  const putString = (s: string) => {
    // At most three UTF-8 bytes per UTF-16 unit.
    if (at + s.length * 3 > buf.length) {
      flush();
      if (s.length * 3 > buf.length) return void writeSync(fd, s);
    }
    at += buf.write(s, at, "utf8");
  };
  const putBytes = (b: Uint8Array) => {
    if (at + b.length > buf.length) {
      flush();
      if (b.length > buf.length) return void writeSync(fd, b);
    }
    buf.set(b, at);
    at += b.length;
  };
  try {
    for (const r of rows) {
      if (extraColumns && r instanceof SourcedEvent) {
        // Copied straight from the object's bytes: no string, no view per row.
        const end = r.lastBrace();
        if (end > 0) {
          if (at + end > buf.length) flush();
          if (end > buf.length) writeSync(fd, r.source().subarray(0, end));
          else {
            r.copySource(buf, at, end);
            at += end;
          }
          putString(tailOf(r, extraColumns));
          continue;
        }
      }
      const source = extraColumns ? sourceTextOf(r) : undefined;
      if (source === undefined) {
        putString(JSON.stringify(r) + "\n");
        continue;
      }
      const tail = tailOf(r, extraColumns!);
      if (typeof source === "string") {
        const end = source.lastIndexOf("}");
        putString(end > 0 ? source.slice(0, end) + tail : JSON.stringify(r) + "\n");
        continue;
      }
      const end = source.lastIndexOf(CLOSE_BRACE);
      if (end <= 0) {
        putString(JSON.stringify(r) + "\n");
        continue;
      }
      putBytes(source.subarray(0, end));
      putString(tail);
    }
    flush();
  } finally {
    closeSync(fd);
  }
}
