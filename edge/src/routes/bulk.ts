/**
 * POST /v1/bulk/{stream}: an NDJSON file (optionally gzip) streamed into the landing bucket with a
 * resumable upload, then announced on the landing-notifications topic the way Cloud Storage's
 * Pub/Sub notifications do (OBJECT_FINALIZE, JSON_API_V1), for the pipeline's batch loader.
 * The file is stored as sent (gzip stays gzip, named .ndjson.gz); lines are counted on the way.
 */
import type { Hono } from "hono";
import { MAX_BULK_UPLOAD_BYTES } from "../../../contracts/limits.js";
import { STREAMS, type Stream } from "../../../contracts/records.js";
import { resumableUpload } from "../bulk/resumable.js";
import { config } from "../config.js";
import { EdgeError, tooLarge } from "../errors.js";
import { authHeaders, storageBase } from "../google/auth.js";
import { transport } from "../google/http.js";
import { publish } from "../google/pubsub.js";
import { basicUsername, sourceForWriteKey } from "../lib/auth.js";
import { enforceRateLimit } from "../middleware/rate-limit.js";
import type { AppEnv } from "../types.js";

export const LANDING_TOPIC = "landing-notifications";

/** Counts newline bytes of a (possibly gzip) byte stream. */
function lineCounter(gzip: boolean) {
  let lines = 0;
  let last = 10;
  const count = (chunk: Uint8Array) => {
    for (let i = 0; i < chunk.length; i++) if (chunk[i] === 10) lines++;
    if (chunk.length) last = chunk[chunk.length - 1]!;
  };
  if (!gzip) return { feed: count, total: async () => lines + (last === 10 ? 0 : 1) };
  const { readable, writable } = new DecompressionStream("gzip");
  const writer = writable.getWriter();
  const done = (async () => {
    const reader = readable.getReader();
    for (;;) {
      const { done: end, value } = await reader.read();
      if (end) break;
      count(value);
    }
  })();
  return {
    feed: (chunk: Uint8Array) => void writer.write(chunk).catch(() => {}),
    total: async () => {
      await writer.close();
      await done.catch(() => {
        throw new EdgeError(400, "malformed_body", "the upload says gzip but is not valid gzip data", "Compress the whole file with gzip, or drop Content-Encoding.");
      });
      return lines + (last === 10 ? 0 : 1);
    },
  };
}

export function bulkRoutes(app: Hono<AppEnv>) {
  app.post("/v1/bulk/:stream", async (c) => {
    const stream = c.req.param("stream") as Stream;
    if (!STREAMS.includes(stream)) throw new EdgeError(404, "not_found", `unknown stream "${stream.slice(0, 32)}"`, `Upload to /v1/bulk/${STREAMS.join(", /v1/bulk/")}.`);
    const cfg = config(c.env);
    const source = sourceForWriteKey(cfg.WRITE_KEYS, basicUsername(c.req.header("authorization")));
    await enforceRateLimit(c, `bulk:${source}`);
    const declared = Number(c.req.header("content-length") ?? "NaN");
    if (Number.isFinite(declared) && declared > MAX_BULK_UPLOAD_BYTES) throw tooLarge(`the upload is larger than the ${MAX_BULK_UPLOAD_BYTES / 1024 / 1024} MB limit`, "Split the file.");
    const encoding = (c.req.header("content-encoding") ?? "identity").toLowerCase();
    if (!["identity", "gzip", "x-gzip"].includes(encoding)) throw new EdgeError(415, "unsupported_encoding", `Content-Encoding "${encoding}" is not supported`, "Upload plain or gzip NDJSON.");
    const gzip = encoding !== "identity";
    if (!c.req.raw.body) throw new EdgeError(400, "malformed_body", "the upload is empty", "Send an NDJSON file as the body.");

    const received = new Date(c.get("receivedAt"));
    const day = received.toISOString().slice(0, 10);
    const name = `landing/${stream}/dt=${day}/${c.get("requestId").replace(/[^\w-]/g, "")}.ndjson${gzip ? ".gz" : ""}`;
    const counter = lineCounter(gzip);
    const object = await resumableUpload(
      {
        base: storageBase(c.env),
        bucket: c.env.LANDING_BUCKET,
        name,
        contentType: gzip ? "application/gzip" : "application/x-ndjson",
        metadata: { stream, source, request_id: c.get("requestId") },
        headers: () => authHeaders(c.env, "storage"),
        fetch: transport.fetch,
      },
      c.req.raw.body,
      MAX_BULK_UPLOAD_BYTES,
      counter.feed,
    );
    const lines = await counter.total();
    // As a Cloud Storage notification would announce it: same attributes, object resource as data.
    await publish(c.env, LANDING_TOPIC, [
      {
        data: JSON.stringify(object),
        attributes: {
          eventType: "OBJECT_FINALIZE",
          payloadFormat: "JSON_API_V1",
          bucketId: c.env.LANDING_BUCKET,
          objectId: name,
          objectGeneration: String(object.generation),
          notificationConfig: `projects/_/buckets/${c.env.LANDING_BUCKET}/notificationConfigs/tideline`,
          eventTime: new Date().toISOString(),
        },
      },
    ]);
    return c.json({ bucket: c.env.LANDING_BUCKET, object: name, bytes: Number(object.size), lines, request_id: c.get("requestId") });
  });
}
