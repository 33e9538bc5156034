/**
 * The streams of a bulk upload around the line transform: the request body counted against the
 * upload limit, inflated when gzip, pumped into the transform with backpressure, and the records
 * gzipped on their way to Cloud Storage. Every stage waits for the next, so a slow Cloud Storage
 * slows the reading of the request instead of filling the Worker's memory.
 */
import { gzipSync } from "node:zlib";
import { Gunzip } from "fflate";
import { MAX_BULK_UPLOAD_BYTES } from "../../../contracts/limits.js";
import { EdgeError, tooLarge } from "../errors.js";

const mb = (n: number) => `${Math.round(n / 1024 / 1024)} MB`;

/** Counts wire bytes and stops at the upload limit, whatever Content-Length said. */
export function wireLimit(failed: (err: unknown) => void): TransformStream<Uint8Array, Uint8Array> {
  let total = 0;
  return new TransformStream({
    transform(chunk, controller) {
      total += chunk.byteLength;
      if (total > MAX_BULK_UPLOAD_BYTES) {
        const err = tooLarge(`the upload is larger than the ${mb(MAX_BULK_UPLOAD_BYTES)} limit`, "Split the file into several uploads.");
        failed(err);
        throw err;
      }
      controller.enqueue(chunk);
    },
  });
}

/**
 * Gzip, one member per piece of records: a gzip file may be any number of members back to back
 * (RFC 1952), and every reader of the archive format inflates them as one text. Not
 * CompressionStream: in workerd its writable side takes writes without ever applying
 * backpressure, so a slow Cloud Storage would let the whole upload pile up in memory.
 */
export function gzipMembers(): TransformStream<Uint8Array, Uint8Array> {
  return new TransformStream({
    transform(chunk, controller) {
      controller.enqueue(gzipSync(chunk));
    },
  });
}

/** Compressed bytes inflated at a time: at deflate's ratio limit (~1:1032) at most ~4 MB come out of one slice. */
const GUNZIP_SLICE_BYTES = 4096;

const notGzip = () => new EdgeError(400, "malformed_body", "the upload says gzip but is not valid gzip data", "Compress the whole file with gzip, or drop Content-Encoding.");

/**
 * Moves the upload into the line transform, inflating gzip on the way, one piece at a time and only
 * as fast as the transform takes it (each write awaited: backpressure reaches the request body).
 * fflate's Gunzip rather than DecompressionStream: workerd's DecompressionStream takes writes
 * without backpressure, so a slow Cloud Storage would let the whole upload pile up inflated in
 * memory; fflate also reads multi-member gzip files. Never rejects: a failure is handed to
 * `failed` and aborts the transform, which fails the Cloud Storage upload after it.
 */
export async function pump(from: ReadableStream<Uint8Array>, to: WritableStream<Uint8Array>, failed: (err: unknown) => void, gzip: boolean): Promise<void> {
  const reader = from.getReader();
  const writer = to.getWriter();
  const inflated: Uint8Array[] = [];
  const gunzip = gzip ? new Gunzip((chunk) => void inflated.push(chunk)) : null;
  const stop = async (err: unknown) => {
    failed(err);
    await writer.abort(err).catch(() => {});
    await reader.cancel().catch(() => {});
  };
  /** Feeds bytes (or the end) through gunzip; false when they are not gzip. */
  const inflate = (bytes: Uint8Array, final: boolean) => {
    try {
      gunzip!.push(bytes, final);
      return true;
    } catch {
      return false;
    }
  };
  const drain = async () => {
    while (inflated.length) await writer.write(inflated.shift()!);
  };
  for (;;) {
    let chunk: ReadableStreamReadResult<Uint8Array>;
    try {
      chunk = await reader.read();
    } catch {
      // Not ours (those were reported where they arose): the connection broke.
      return stop(new EdgeError(400, "malformed_body", "the upload ended before its end (the connection broke)", "Upload the file again."));
    }
    try {
      if (chunk.done) {
        if (gunzip) {
          if (!inflate(new Uint8Array(0), true)) return stop(notGzip());
          await drain();
        }
        await writer.close();
        return;
      }
      if (!gunzip) {
        await writer.write(chunk.value);
        continue;
      }
      for (let at = 0; at < chunk.value.byteLength; at += GUNZIP_SLICE_BYTES) {
        if (!inflate(chunk.value.subarray(at, at + GUNZIP_SLICE_BYTES), false)) return stop(notGzip());
        await drain();
      }
    } catch {
      // The transform or the upload after it failed (and said why); stop reading the request.
      await reader.cancel().catch(() => {});
      return;
    }
  }
}
