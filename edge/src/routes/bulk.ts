/**
 * POST /v1/bulk/{stream}: backfill files (NDJSON, optionally gzip) of the live path's inputs, turned
 * into records at the edge as they stream in and written to the landing bucket with a resumable
 * upload as gzip NDJSON of records (the format of the raw archive), then announced on the
 * landing-notifications topic the way Cloud Storage's Pub/Sub notifications do (OBJECT_FINALIZE,
 * JSON_API_V1), for the pipeline's loader.
 *
 * Credentials are server-side and scoped, never the public write key, and checked before the body
 * is read: `events` takes a BULK_TOKENS token granted that stream (the token fixes the source);
 * `webhooks` a BULK_TOKENS token granted that stream for a webhook source, plus the file signed
 * with that source's own secret (X-Tideline-Signature over the uncompressed file, checked before
 * the object is committed); `cdc` the CDC token. The object's name is the edge's, and its metadata
 * carries the stream and source, which the loader enforces on every record.
 */
import type { Context, Hono } from "hono";
import { MAX_BULK_DECOMPRESSED_BYTES, MAX_BULK_EVENT_LINE_BYTES, MAX_BULK_LINE_BYTES, MAX_BULK_UPLOAD_BYTES } from "../../../contracts/limits.js";
import { LANDING } from "../../../contracts/defaults.js";
import { STREAMS, type DeadLetterRecord, type Stream } from "../../../contracts/records.js";
import { deadLetterPayload } from "../bulk/dead-letter-payload.js";
import { lineProcessor } from "../bulk/lines.js";
import { resumableUpload } from "../bulk/resumable.js";
import { gzipMembers, pump, wireLimit } from "../bulk/streams.js";
import { bulkTransform, type BulkTally, type BulkTransformOptions } from "../bulk/transform.js";
import { config, type BulkGrant, type EdgeConfig } from "../config.js";
import { stableId } from "../enrich/hash.js";
import { EdgeError, badSignature, excerpt, forbidden, tooLarge, unauthorized } from "../errors.js";
import { authHeaders, storageBase } from "../google/auth.js";
import { transport } from "../google/http.js";
import { publish } from "../google/pubsub.js";
import { bearerToken, safeEqual } from "../lib/auth.js";
import { enforceRateLimit } from "../middleware/rate-limit.js";
import { storeDeadLetters } from "../queue/consumer.js";
import type { AppEnv } from "../types.js";
import { parseTidelineSignature, tidelineVerifier } from "../webhooks/signatures.js";
import { webhookSecretOf } from "../webhooks/records.js";
import { checkCdcToken } from "./cdc.js";

export const LANDING_TOPIC = "landing-notifications";

const mb = (n: number) => `${Math.round(n / 1024 / 1024)} MB`;

/** The BULK_TOKENS grant of a bearer token, compared in constant time against every token. */
function grantOf(cfg: EdgeConfig, authorization: string | undefined): BulkGrant {
  const token = bearerToken(authorization);
  if (!token) throw unauthorized("missing bulk token", "Send Authorization: Bearer <token> with a token from BULK_TOKENS (the public write key is not accepted here).");
  let grant: BulkGrant | null = null;
  for (const [t, g] of Object.entries(cfg.BULK_TOKENS)) if (safeEqual(t, token)) grant = g;
  if (!grant) throw unauthorized("unknown bulk token", "Use a token from BULK_TOKENS; write keys are public and cannot upload files.");
  return grant;
}

interface Uploader {
  source: string;
  /** Checks the file's signature once all of it was read (webhooks). */
  verifier?: ReturnType<typeof tidelineVerifier>;
}

function authenticate(c: Context<AppEnv>, cfg: EdgeConfig, stream: Stream): Uploader {
  const authorization = c.req.header("authorization");
  if (stream === "cdc") {
    checkCdcToken(cfg, authorization);
    return { source: "cdc" };
  }
  const grant = grantOf(cfg, authorization);
  if (!grant.streams.includes(stream)) throw forbidden(`this bulk token may upload ${grant.streams.join(", ")}, not ${stream}`, "Use a token granted this stream in BULK_TOKENS.");
  if (stream === "events") return { source: grant.source };
  const secret = webhookSecretOf(cfg, grant.source);
  if (!secret) throw forbidden(`webhook source "${grant.source}" has no signing secret configured`, "Configure SHOPIFY_SECRET, HUBSPOT_SECRET or WEBHOOK_SECRETS for the token's source.");
  const sig = parseTidelineSignature(c.req.header("x-tideline-signature"));
  return { source: grant.source, verifier: tidelineVerifier(secret, sig) };
}

function deadLettersOf(tally: BulkTally, stream: Stream, object: string, failedAt: string, keep: (line: string) => string): DeadLetterRecord[] {
  return tally.deadLetters.map(([line, reason, text]) => ({
    dead_letter_id: stableId("bulk", object, String(line)),
    stage: "edge",
    reason: `bulk upload ${object}: ${reason}`,
    stream,
    event_id: null,
    attempts: 1,
    failed_at: failedAt,
    payload: keep(text),
  }));
}

export function bulkRoutes(app: Hono<AppEnv>) {
  app.post("/v1/bulk/:stream", async (c) => {
    const stream = c.req.param("stream") as Stream;
    if (!STREAMS.includes(stream)) throw new EdgeError(404, "not_found", `unknown stream "${excerpt(stream, 32)}"`, `Upload to /v1/bulk/${STREAMS.join(", /v1/bulk/")}.`);
    const cfg = config(c.env);
    const uploader = authenticate(c, cfg, stream);
    await enforceRateLimit(c, `bulk:${stream}:${uploader.source}`);
    const declared = Number(c.req.header("content-length") ?? "NaN");
    if (Number.isFinite(declared) && declared > MAX_BULK_UPLOAD_BYTES) throw tooLarge(`the upload is larger than the ${mb(MAX_BULK_UPLOAD_BYTES)} limit`, "Split the file.");
    const encoding = (c.req.header("content-encoding") ?? "identity").trim().toLowerCase();
    if (!["identity", "gzip", "x-gzip"].includes(encoding)) throw new EdgeError(415, "unsupported_encoding", `Content-Encoding "${excerpt(encoding)}" is not supported`, "Upload plain or gzip NDJSON.");
    if (!c.req.raw.body) throw new EdgeError(400, "malformed_body", "the upload is empty", "Send an NDJSON file as the body.");

    const receivedAt = c.get("receivedAt");
    const requestId = c.get("requestId");
    // The edge names the object: a client's request id must not choose (or collide with) it.
    const name = LANDING.objectName(stream, new Date(receivedAt), crypto.randomUUID());
    const transformOptions: BulkTransformOptions = {
      process: lineProcessor(stream, { source: uploader.source, receivedAt, requestId }, cfg),
      maxLineBytes: stream === "events" ? MAX_BULK_EVENT_LINE_BYTES : MAX_BULK_LINE_BYTES,
      ...(uploader.verifier ? { onBytes: uploader.verifier.update } : {}),
      beforeEnd(t: BulkTally) {
        if (uploader.verifier && !uploader.verifier.matches()) {
          throw badSignature("X-Tideline-Signature does not match the file", `Sign the uncompressed file with the secret of webhook source "${uploader.source}": v1 = hex HMAC-SHA256(secret, t + "." + file).`);
        }
        if (t.lines === 0) throw new EdgeError(400, "malformed_body", "the upload has no lines", "Send an NDJSON file: one JSON value per line.");
        if (t.accepted === 0 && t.tombstones === 0 && t.dropped === 0) {
          throw new EdgeError(400, "invalid_event", `none of the ${t.lines} lines is valid; nothing was stored`, "Fix the lines listed in `rejected`, and check that the file belongs to this stream.", {}, t.rejected);
        }
      },
    };

    // The first error of the upload's own making (a 4xx from a limit, a bad line count, a bad
    // signature, bad gzip): the streams after the failing one may pass on only "aborted".
    let failure: unknown = null;
    const failed = (err: unknown) => {
      failure ??= err;
    };
    const { stream: lines, tally } = bulkTransform({ ...transformOptions, onError: failed });
    const pumped = pump(c.req.raw.body.pipeThrough(wireLimit(failed)), lines.writable, failed, encoding !== "identity");
    const records = lines.readable.pipeThrough(gzipMembers());
    let object;
    try {
      object = await resumableUpload(
        {
          base: storageBase(c.env),
          bucket: c.env.LANDING_BUCKET,
          name,
          contentType: "application/gzip",
          metadata: { stream, source: uploader.source, request_id: requestId },
          headers: () => authHeaders(c.env, "storage"),
          fetch: transport.fetch,
        },
        records,
        MAX_BULK_DECOMPRESSED_BYTES,
      );
    } catch (err) {
      // Unread when the upload failed before reading (its session could not start): release the pump.
      await records.cancel().catch(() => {});
      await pumped;
      throw failure ?? err;
    }
    await pumped;

    const now = new Date();
    if (tally.deadLetters.length) await storeDeadLetters(c.env, deadLettersOf(tally, stream, name, now.toISOString(), (text) => deadLetterPayload(text, stream, uploader.source, cfg)), stableId("bulk", name), now);
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
          eventTime: now.toISOString(),
        },
      },
    ]);
    return c.json({
      bucket: c.env.LANDING_BUCKET,
      object: name,
      bytes: Number(object.size),
      lines: tally.lines,
      accepted: tally.accepted,
      rejected: tally.rejected,
      rejected_count: tally.rejectedCount,
      ...(tally.tombstones ? { tombstones: tally.tombstones } : {}),
      ...(tally.dropped ? { dropped_without_consent: tally.dropped } : {}),
      request_id: requestId,
    });
  });
}
