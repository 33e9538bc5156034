/**
 * A local stand-in for the Cloud Storage JSON API on 127.0.0.1: buckets, objects, media/multipart/
 * resumable uploads, downloads with ranges, listing with prefix/delimiter/pages, and generation
 * preconditions, enough for @google-cloud/storage and for the Worker's REST calls. Written here
 * because no Cloud Storage emulator can be installed on this kind of machine (no Docker, no JVM jar
 * downloads) and the npm ones cover too little of the API.
 */
import { randomBytes } from "node:crypto";
import { createReadStream, createWriteStream, mkdirSync, rmSync, statSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { ObjectStore, StoreError, type ObjectMeta, type Preconditions } from "./store.js";

export const DEFAULT_MAX_UPLOAD_BYTES = 5 * 1024 ** 3;
const PAGE_SIZE = 1000;

interface Session {
  bucket: string;
  name: string;
  attrs: { contentType?: string; contentEncoding?: string; metadata?: Record<string, string> };
  pre: Preconditions;
  file: string;
  received: number;
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json; charset=UTF-8", "content-length": Buffer.byteLength(text), ...headers }).end(text);
}
function sendError(res: ServerResponse, status: number, message: string, reason: string) {
  if (res.headersSent) return res.destroy();
  sendJson(res, status, { error: { code: status, message, errors: [{ message, domain: "global", reason }] } });
}
async function readAll(req: IncomingMessage, max: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of req) {
    n += (c as Buffer).length;
    if (n > max) throw new StoreError(413, "request too large", "uploadTooLarge");
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks);
}

function preconditions(q: URLSearchParams): Preconditions {
  const p: Preconditions = {};
  for (const k of ["ifGenerationMatch", "ifGenerationNotMatch", "ifMetagenerationMatch", "ifMetagenerationNotMatch"] as const) {
    const v = q.get(k);
    if (v !== null) p[k] = v;
  }
  return p;
}

function parseMultipart(body: Buffer, contentType: string): { meta: Record<string, unknown>; media: Buffer; mediaType?: string } {
  const boundary = /boundary="?([^";]+)"?/i.exec(contentType)?.[1];
  if (!boundary) throw new StoreError(400, "multipart upload without a boundary", "invalid");
  const parts: { headers: string; data: Buffer }[] = [];
  const delim = Buffer.from(`--${boundary}`);
  let pos = body.indexOf(delim);
  while (pos >= 0) {
    const start = pos + delim.length;
    if (body.subarray(start, start + 2).toString() === "--") break;
    const next = body.indexOf(delim, start);
    if (next < 0) break;
    const part = body.subarray(start + 2, next - 2);
    const split = part.indexOf("\r\n\r\n");
    parts.push({ headers: part.subarray(0, split).toString(), data: part.subarray(split + 4) });
    pos = next;
  }
  if (parts.length < 2) throw new StoreError(400, "multipart upload needs a metadata part and a media part", "invalid");
  const mediaType = /content-type:\s*([^\r\n]+)/i.exec(parts[1]!.headers)?.[1]?.trim();
  return { meta: JSON.parse(parts[0]!.data.toString("utf8")) as Record<string, unknown>, media: parts[1]!.data, ...(mediaType ? { mediaType } : {}) };
}

export async function startGcsStore(opts: {
  host?: string;
  port?: number;
  dataDir: string;
  buckets?: string[];
  log?: (line: string) => void;
  verbose?: boolean;
  maxUploadBytes?: number;
}): Promise<{ url: string; port: number; close(): Promise<void> }> {
  const store = new ObjectStore(join(opts.dataDir, "buckets"));
  const sessionsDir = join(opts.dataDir, "uploads");
  rmSync(sessionsDir, { recursive: true, force: true });
  mkdirSync(sessionsDir, { recursive: true });
  for (const b of opts.buckets ?? []) store.ensureBucket(b);
  const max = opts.maxUploadBytes ?? DEFAULT_MAX_UPLOAD_BYTES;
  const sessions = new Map<string, Session>();
  let base = "";

  const objectResource = (m: ObjectMeta) => ({
    ...m,
    selfLink: `${base}/storage/v1/b/${m.bucket}/o/${encodeURIComponent(m.name)}`,
    mediaLink: `${base}/download/storage/v1/b/${m.bucket}/o/${encodeURIComponent(m.name)}?generation=${m.generation}&alt=media`,
  });

  function sendMedia(req: IncomingMessage, res: ServerResponse, m: ObjectMeta) {
    const size = Number(m.size);
    const headers: Record<string, string | number> = {
      "content-type": m.contentType,
      "x-goog-hash": `crc32c=${m.crc32c},md5=${m.md5Hash}`,
      "x-goog-generation": m.generation,
      "x-goog-metageneration": m.metageneration,
      "x-goog-stored-content-length": m.size,
      ...(m.contentEncoding ? { "x-goog-stored-content-encoding": m.contentEncoding } : {}),
      "accept-ranges": "bytes",
    };
    const range = /^bytes=(\d*)-(\d*)$/.exec(req.headers.range ?? "");
    if (range && size > 0) {
      const start = range[1] ? Number(range[1]) : Math.max(0, size - Number(range[2]));
      const end = range[1] && range[2] ? Math.min(Number(range[2]), size - 1) : size - 1;
      if (start > end || start >= size) return sendError(res, 416, "requested range not satisfiable", "requestedRangeNotSatisfiable");
      res.writeHead(206, { ...headers, "content-range": `bytes ${start}-${end}/${size}`, "content-length": end - start + 1 });
      return void pipeline(store.read(m.bucket, m.name, { start, end }), res).catch(() => res.destroy());
    }
    res.writeHead(200, { ...headers, "content-length": size });
    if (req.method === "HEAD" || size === 0) return void res.end();
    void pipeline(store.read(m.bucket, m.name), res).catch(() => res.destroy());
  }

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? "/", "http://store");
    // With STORAGE_EMULATOR_HOST the official client drops the /storage/v1 prefix, as other emulators accept.
    if (url.pathname.startsWith("/b/") || url.pathname === "/b") url.pathname = `/storage/v1${url.pathname}`;
    const q = url.searchParams;
    const path = url.pathname;
    const method = req.method ?? "GET";
    let m: RegExpExecArray | null;

    if ((m = /^\/upload\/storage\/v1\/b\/([^/]+)\/o$/.exec(path))) {
      const bucket = decodeURIComponent(m[1]!);
      const uploadId = q.get("upload_id");
      if (uploadId) return resumableChunk(req, res, uploadId, method);
      if (method !== "POST") return sendError(res, 405, "method not allowed", "methodNotAllowed");
      if (!store.hasBucket(bucket)) throw new StoreError(404, `The specified bucket does not exist: ${bucket}`, "notFound");
      const type = q.get("uploadType") ?? "media";
      const pre = preconditions(q);
      if (type === "media") {
        const name = q.get("name");
        if (!name) throw new StoreError(400, "uploadType=media needs ?name=", "required");
        const meta = await store.write(bucket, name, req, { contentType: req.headers["content-type"] ?? "application/octet-stream", ...(q.get("contentEncoding") ? { contentEncoding: q.get("contentEncoding")! } : {}) }, pre, max);
        return sendJson(res, 200, objectResource(meta));
      }
      if (type === "multipart") {
        const { meta: md, media, mediaType } = parseMultipart(await readAll(req, max), req.headers["content-type"] ?? "");
        const name = (md.name as string | undefined) ?? q.get("name");
        if (!name) throw new StoreError(400, "multipart upload without an object name", "required");
        const meta = await store.write(
          bucket,
          name,
          media,
          { contentType: (md.contentType as string | undefined) ?? mediaType, contentEncoding: md.contentEncoding as string | undefined, metadata: md.metadata as Record<string, string> | undefined },
          pre,
          max,
        );
        return sendJson(res, 200, objectResource(meta));
      }
      if (type === "resumable") {
        const body = await readAll(req, 1024 * 1024);
        const md = body.length ? (JSON.parse(body.toString("utf8")) as Record<string, unknown>) : {};
        const name = (md.name as string | undefined) ?? q.get("name");
        if (!name) throw new StoreError(400, "resumable upload without an object name", "required");
        const id = randomBytes(12).toString("hex");
        const file = join(sessionsDir, id);
        createWriteStream(file).end();
        sessions.set(id, {
          bucket,
          name,
          attrs: {
            contentType: (md.contentType as string | undefined) ?? (req.headers["x-upload-content-type"] as string | undefined),
            contentEncoding: md.contentEncoding as string | undefined,
            metadata: md.metadata as Record<string, string> | undefined,
          },
          pre,
          file,
          received: 0,
        });
        res.writeHead(200, { location: `${base}/upload/storage/v1/b/${encodeURIComponent(bucket)}/o?uploadType=resumable&upload_id=${id}`, "content-length": 0 }).end();
        return;
      }
      throw new StoreError(400, `unsupported uploadType ${type}`, "invalid");
    }

    if ((m = /^\/(?:download\/)?storage\/v1\/b\/([^/]+)\/o\/(.+)$/.exec(path))) {
      const bucket = decodeURIComponent(m[1]!);
      const name = decodeURIComponent(m[2]!);
      const pre = preconditions(q);
      if (method === "GET" || method === "HEAD") {
        const meta = store.get(bucket, name, pre);
        if (q.get("alt") === "media" || path.startsWith("/download/")) return sendMedia(req, res, meta);
        return sendJson(res, 200, objectResource(meta));
      }
      if (method === "DELETE") {
        store.delete(bucket, name, pre);
        res.writeHead(204).end();
        return;
      }
      if (method === "PATCH" || method === "PUT") {
        const patch = JSON.parse((await readAll(req, 1024 * 1024)).toString("utf8") || "{}") as Partial<ObjectMeta>;
        return sendJson(res, 200, objectResource(store.patch(bucket, name, patch, pre)));
      }
      return sendError(res, 405, "method not allowed", "methodNotAllowed");
    }

    if ((m = /^\/storage\/v1\/b\/([^/]+)\/o$/.exec(path)) && method === "GET") {
      const bucket = decodeURIComponent(m[1]!);
      const { items, prefixes } = store.list(bucket, {
        ...(q.get("prefix") ? { prefix: q.get("prefix")! } : {}),
        ...(q.get("delimiter") ? { delimiter: q.get("delimiter")! } : {}),
        ...(q.get("startOffset") ? { startOffset: q.get("startOffset")! } : {}),
        ...(q.get("endOffset") ? { endOffset: q.get("endOffset")! } : {}),
      });
      // One ordered sequence of objects and prefixes, paged by the last name returned.
      type Entry = { key: string; item?: ObjectMeta; prefix?: string };
      const entries: Entry[] = [...items.map((i) => ({ key: i.name, item: i })), ...prefixes.map((p) => ({ key: p, prefix: p }))].sort((a, b) => (a.key < b.key ? -1 : 1));
      const after = q.get("pageToken") ? Buffer.from(q.get("pageToken")!, "base64url").toString("utf8") : null;
      const from = after === null ? 0 : entries.findIndex((e) => e.key > after);
      const size = Math.min(PAGE_SIZE, Number(q.get("maxResults") ?? PAGE_SIZE) || PAGE_SIZE);
      const page = from < 0 ? [] : entries.slice(from, from + size);
      const more = from >= 0 && from + size < entries.length;
      return sendJson(res, 200, {
        kind: "storage#objects",
        items: page.filter((e) => e.item).map((e) => objectResource(e.item!)),
        prefixes: page.filter((e) => e.prefix).map((e) => e.prefix!),
        ...(more ? { nextPageToken: Buffer.from(page[page.length - 1]!.key).toString("base64url") } : {}),
      });
    }

    if ((m = /^\/storage\/v1\/b\/([^/]+)$/.exec(path))) {
      const bucket = decodeURIComponent(m[1]!);
      if (method === "GET") {
        if (!store.hasBucket(bucket)) throw new StoreError(404, `The specified bucket does not exist: ${bucket}`, "notFound");
        return sendJson(res, 200, { kind: "storage#bucket", id: bucket, name: bucket, location: "US", storageClass: "STANDARD" });
      }
      if (method === "DELETE") {
        store.deleteBucket(bucket);
        res.writeHead(204).end();
        return;
      }
    }
    if (path === "/storage/v1/b") {
      if (method === "GET") return sendJson(res, 200, { kind: "storage#buckets", items: store.bucketNames().map((n) => ({ kind: "storage#bucket", id: n, name: n })) });
      if (method === "POST") {
        const body = JSON.parse((await readAll(req, 1024 * 1024)).toString("utf8") || "{}") as { name?: string };
        if (!body.name) throw new StoreError(400, "a bucket needs a name", "required");
        if (store.hasBucket(body.name)) throw new StoreError(409, `Your previous request to create the named bucket succeeded and you already own it: ${body.name}`, "conflict");
        store.ensureBucket(body.name);
        return sendJson(res, 200, { kind: "storage#bucket", id: body.name, name: body.name });
      }
    }
    return sendError(res, 404, `Not Found: ${method} ${path}`, "notFound");
  }

  async function resumableChunk(req: IncomingMessage, res: ServerResponse, id: string, method: string) {
    const s = sessions.get(id);
    if (!s) return sendError(res, 404, "No such upload session (expired or cancelled)", "notFound");
    if (method === "DELETE") {
      sessions.delete(id);
      rmSync(s.file, { force: true });
      res.writeHead(499).end();
      return;
    }
    const range = req.headers["content-range"] ?? "";
    const status = /^bytes \*\/(\d+|\*)$/.exec(range);
    const chunk = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(range);
    // `bytes N-*/T`: the client's single-request mode (no chunkSize, e.g. bucket.upload of a file): the rest
    // of the object is this whole body, so the body's end finishes the upload even when T is `*`.
    const rest = /^bytes (\d+)-\*\/(\d+|\*)$/.exec(range);
    let total: number | null = null;
    if (status) {
      req.resume();
      total = status[1] === "*" ? null : Number(status[1]);
    } else if (chunk) {
      const start = Number(chunk[1]);
      if (start !== s.received) {
        req.resume();
        return incomplete(res, s);
      }
      await pipeline(req, createWriteStream(s.file, { flags: "a" }));
      s.received = statSync(s.file).size;
      if (s.received > max) throw new StoreError(413, "upload too large", "uploadTooLarge");
      total = chunk[3] === "*" ? null : Number(chunk[3]);
    } else if (rest) {
      if (Number(rest[1]) !== s.received) {
        req.resume();
        return incomplete(res, s);
      }
      await pipeline(req, createWriteStream(s.file, { flags: "a" }));
      s.received = statSync(s.file).size;
      if (s.received > max) throw new StoreError(413, "upload too large", "uploadTooLarge");
      total = s.received;
    } else if (!range) {
      // A single PUT of the whole object.
      await pipeline(req, createWriteStream(s.file, { flags: "a" }));
      s.received = statSync(s.file).size;
      total = s.received;
    } else {
      req.resume();
      throw new StoreError(400, `bad Content-Range: ${range}`, "invalid");
    }
    if (total !== null && s.received >= total) {
      sessions.delete(id);
      try {
        const meta = await store.write(s.bucket, s.name, createReadStream(s.file), s.attrs, s.pre, max);
        return sendJson(res, 200, objectResource(meta));
      } finally {
        rmSync(s.file, { force: true });
      }
    }
    return incomplete(res, s);
  }

  function incomplete(res: ServerResponse, s: Session) {
    res.writeHead(308, { ...(s.received ? { range: `bytes=0-${s.received - 1}` } : {}), "content-length": 0 }).end();
  }

  const server = createServer((req, res) => {
    if (opts.verbose) opts.log?.(`${req.method} ${req.url}`);
    handle(req, res).catch((e: unknown) => {
      if (e instanceof StoreError) return sendError(res, e.status, e.message, e.reason);
      // A malformed %-escape in a bucket or object name is the caller's error, not ours.
      if (e instanceof URIError) return sendError(res, 400, `malformed percent-encoding in the path: ${e.message}`, "invalid");
      if (e instanceof SyntaxError) return sendError(res, 400, `malformed JSON: ${e.message}`, "parseError");
      opts.log?.(`error: ${(e as Error).message}`);
      sendError(res, 500, (e as Error).message, "backendError");
    });
  });
  const host = opts.host ?? "127.0.0.1";
  await new Promise<void>((resolve, reject) => {
    server.once("error", (e: NodeJS.ErrnoException) =>
      reject(e.code === "EADDRINUSE" ? new Error(`port ${opts.port} on ${host} is in use; set TIDELINE_GCS_PORT to another port`) : e),
    );
    server.listen(opts.port ?? 4443, host, resolve);
  });
  const port = (server.address() as AddressInfo).port;
  base = `http://${host}:${port}`;
  return {
    url: base,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
