/**
 * Reads the request body once, enforcing the size limit while reading (wire bytes and, for
 * gzip/deflate bodies, decompressed bytes: a zip bomb stops at the limit), and stores the bytes
 * for the route. Hono's bodyLimit only counts wire bytes, so decompression is handled here too.
 */
import { createMiddleware } from "hono/factory";
import { EdgeError, badRequest, excerpt, tooLarge } from "../errors.js";
import type { AppEnv } from "../types.js";

const kb = (n: number) => `${Math.round(n / 1024)} KB`;

async function collect(stream: ReadableStream<Uint8Array>, maxBytes: number, what: string): Promise<Uint8Array> {
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => {});
      throw tooLarge(`${what} is larger than the ${kb(maxBytes)} limit`, "Send fewer or smaller events per request.");
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(total);
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.byteLength;
  }
  return out;
}

export async function readLimitedBody(req: Request, maxBytes: number): Promise<Uint8Array> {
  const encoding = (req.headers.get("content-encoding") ?? "identity").trim().toLowerCase();
  const declared = Number(req.headers.get("content-length") ?? "NaN");
  if (Number.isFinite(declared) && declared > maxBytes) {
    throw tooLarge(`request body of ${kb(declared)} is larger than the ${kb(maxBytes)} limit`, "Send fewer or smaller events per request.");
  }
  if (!req.body) return new Uint8Array(0);
  if (encoding === "identity" || encoding === "") {
    // A declared length within the limit bounds what HTTP framing delivers: read it in one native call.
    if (Number.isFinite(declared)) return new Uint8Array(await req.arrayBuffer());
    return collect(req.body, maxBytes, "request body");
  }
  const format = encoding === "gzip" || encoding === "x-gzip" ? "gzip" : encoding === "deflate" ? "deflate" : null;
  if (!format) {
    throw new EdgeError(415, "unsupported_encoding", `Content-Encoding "${excerpt(encoding)}" is not supported`, "Send the body uncompressed or with Content-Encoding: gzip.");
  }
  try {
    return await collect(req.body.pipeThrough(new DecompressionStream(format)), maxBytes, "decompressed request body");
  } catch (err) {
    if (err instanceof EdgeError) throw err;
    throw badRequest(`the body is not valid ${format} data`, `Compress the whole body with ${format}, or drop the Content-Encoding header.`);
  }
}

/** Reads the body (bounded) into c.var.body before the route runs. */
export const readBody = (maxBytes: number) =>
  createMiddleware<AppEnv>(async function readBody(c, next) {
    c.set("body", await readLimitedBody(c.req.raw, maxBytes));
    await next();
  });
