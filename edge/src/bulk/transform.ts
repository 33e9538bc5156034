/**
 * The streaming part of a bulk upload: uploaded NDJSON bytes in, NDJSON of records out (to be
 * gzipped into the landing object), one line at a time, as a TransformStream so a slow upload to
 * Cloud Storage slows the reading of the request (backpressure) instead of filling memory.
 * Invalid lines are counted, the first ones listed by line index, and all kept as dead letters;
 * past MAX_BULK_REJECTED_LINES or MAX_BULK_DEAD_LETTER_BYTES the upload fails as a whole.
 */
import {
  MAX_BULK_DEAD_LETTER_BYTES,
  MAX_BULK_DECOMPRESSED_BYTES,
  MAX_BULK_LINES,
  MAX_BULK_REJECTED_LINES,
  MAX_BULK_REJECTIONS_LISTED,
} from "../../../contracts/limits.js";
import type { Rejection } from "../../../contracts/responses.js";
import type { z } from "zod";
import { EdgeError, tooLarge } from "../errors.js";
import type { LineResult } from "./lines.js";

export interface BulkTally {
  lines: number;
  accepted: number;
  rejected: z.infer<typeof Rejection>[];
  rejectedCount: number;
  tombstones: number;
  dropped: number;
  /** Invalid lines, as [line index, reason, the line (possibly cut)]. */
  deadLetters: [number, string, string][];
}

/** What of an over-long line is kept in its dead letter. */
const KEPT_OF_LONG_LINE = 4096;
/** Records are handed on in pieces of about this many characters. */
const OUTPUT_PIECE_CHARS = 256 * 1024;

const kb = (n: number) => (n >= 1024 * 1024 ? `${(n / 1024 / 1024).toFixed(1)} MB` : `${(n / 1024).toFixed(1)} KB`);

export interface BulkTransformOptions {
  process: (text: string) => LineResult;
  maxLineBytes: number;
  /** Sees every uploaded byte (decompressed), e.g. to check a signature over the file. */
  onBytes?: (chunk: Uint8Array) => void;
  /** Runs when the input ended, before the last records are handed on; throwing fails the upload. */
  beforeEnd?: (tally: BulkTally) => void;
  /** Told the error that fails the stream (the streams after it may pass on only "aborted"). */
  onError?: (err: unknown) => void;
}

export function bulkTransform(o: BulkTransformOptions): { stream: TransformStream<Uint8Array, Uint8Array>; tally: BulkTally } {
  const tally: BulkTally = { lines: 0, accepted: 0, rejected: [], rejectedCount: 0, tombstones: 0, dropped: 0, deadLetters: [] };
  const decoder = new TextDecoder();
  const encoder = new TextEncoder();
  let total = 0;
  let index = 0;
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  /** The current line is over the limit: its bytes are skipped up to the next newline. */
  let overLong = false;
  let overLongHead = "";
  let deadLetterBytes = 0;
  let out = "";

  const fail = (line: number, error: string, kept: string) => {
    tally.rejectedCount++;
    if (tally.rejected.length < MAX_BULK_REJECTIONS_LISTED) tally.rejected.push({ index: line, error });
    tally.deadLetters.push([line, error, kept]);
    deadLetterBytes += kept.length;
    if (tally.rejectedCount > MAX_BULK_REJECTED_LINES || deadLetterBytes > MAX_BULK_DEAD_LETTER_BYTES) {
      throw new EdgeError(
        400,
        "invalid_event",
        `the file has more invalid lines than an upload may have (${MAX_BULK_REJECTED_LINES} lines or ${kb(MAX_BULK_DEAD_LETTER_BYTES)}); nothing was stored`,
        "Fix the lines listed in `rejected` (the first ones found), check that the file belongs to this stream, and upload it again.",
        {},
        tally.rejected,
      );
    }
  };

  const handle = (text: string, line: number) => {
    const trimmed = text.trim();
    if (!trimmed) return;
    tally.lines++;
    if (tally.lines > MAX_BULK_LINES) throw tooLarge(`the file has more than ${MAX_BULK_LINES.toLocaleString("en-US")} lines`, "Split the file into several uploads.");
    const r = o.process(trimmed);
    switch (r.kind) {
      case "records":
        tally.accepted++;
        for (const rec of r.records) out += rec + "\n";
        return;
      case "rejected":
        return fail(line, `line ${line + 1}: ${r.error}`, trimmed);
      case "tombstone":
        tally.tombstones++;
        return;
      case "dropped":
        tally.dropped++;
        return;
    }
  };

  const take = (): string => {
    if (pending.length === 1) return decoder.decode(pending[0]!);
    const all = new Uint8Array(pendingBytes);
    let off = 0;
    for (const p of pending) {
      all.set(p, off);
      off += p.byteLength;
    }
    return decoder.decode(all);
  };

  const endLine = () => {
    if (overLong) {
      tally.lines++;
      fail(index, `line ${index + 1} is over the ${kb(o.maxLineBytes)} limit of a line (its first ${kb(KEPT_OF_LONG_LINE)} are kept)`, overLongHead);
    } else if (pendingBytes) handle(take(), index);
    pending = [];
    pendingBytes = 0;
    overLong = false;
    overLongHead = "";
    index++;
  };

  const append = (part: Uint8Array) => {
    if (!part.byteLength) return;
    if (overLong) return;
    if (pendingBytes + part.byteLength > o.maxLineBytes) {
      overLong = true;
      pending.push(part);
      overLongHead = take().slice(0, KEPT_OF_LONG_LINE);
      pending = [];
      pendingBytes = 0;
      return;
    }
    // Copied: the runtime may reuse a chunk's buffer once it was handed on.
    pending.push(part.slice());
    pendingBytes += part.byteLength;
  };

  const handOn = (controller: TransformStreamDefaultController<Uint8Array>, force: boolean) => {
    if (out.length && (force || out.length >= OUTPUT_PIECE_CHARS)) {
      controller.enqueue(encoder.encode(out));
      out = "";
    }
  };

  const failing = <A extends unknown[]>(fn: (...a: A) => void) => (...a: A) => {
    try {
      fn(...a);
    } catch (err) {
      o.onError?.(err);
      throw err;
    }
  };

  const stream = new TransformStream<Uint8Array, Uint8Array>({
    transform: failing((chunk: Uint8Array, controller: TransformStreamDefaultController<Uint8Array>) => {
      total += chunk.byteLength;
      if (total > MAX_BULK_DECOMPRESSED_BYTES) throw tooLarge(`the file is larger than ${kb(MAX_BULK_DECOMPRESSED_BYTES)} (decompressed)`, "Split the file into several uploads.");
      o.onBytes?.(chunk);
      let start = 0;
      for (let nl = chunk.indexOf(10, start); nl !== -1; nl = chunk.indexOf(10, start)) {
        append(chunk.subarray(start, nl));
        endLine();
        start = nl + 1;
      }
      append(chunk.subarray(start));
      handOn(controller, false);
    }),
    flush: failing((controller: TransformStreamDefaultController<Uint8Array>) => {
      if (pendingBytes || overLong) endLine();
      o.beforeEnd?.(tally);
      handOn(controller, true);
    }),
  });
  return { stream, tally };
}
