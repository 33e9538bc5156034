/** The OpenAPI 3.1 document of the edge, generated from the request and response contracts. */
import { z } from "zod";
import { SegmentBatch, SegmentEvent, TrackEvent, PageEvent, ScreenEvent, IdentifyEvent, GroupEvent, AliasEvent } from "../segment.js";
import { GenericWebhookBody, HubSpotWebhookBody, ShopifyWebhookBody } from "../webhooks.js";
import { DebeziumPayload } from "../cdc.js";
import { AcceptedResponse, BulkResponse, ErrorResponse } from "../responses.js";
import { CdcRecord, DeadLetterRecord, EventRecord, WebhookRecord } from "../records.js";
import { MAX_BATCH_BYTES, MAX_EVENT_BYTES } from "../limits.js";

const schema = (s: z.ZodType, io: "input" | "output" = "input") => {
  const { $schema: _drop, ...rest } = z.toJSONSchema(s, { io, unrepresentable: "any", target: "draft-2020-12" }) as Record<string, unknown>;
  return rest;
};
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (name: string) => ({ "application/json": { schema: ref(name) } });

const errors = {
  "400": { description: "Malformed body or every item invalid", content: json("ErrorResponse") },
  "401": { description: "Missing or bad credentials or signature", content: json("ErrorResponse") },
  "413": { description: "Body or item larger than the limit", content: json("ErrorResponse") },
  "415": { description: "Unsupported media type or content encoding", content: json("ErrorResponse") },
  "429": { description: "Rate limited; see Retry-After", content: json("ErrorResponse") },
};
const accepted = { "200": { description: "Accepted (partially, see rejected)", content: json("AcceptedResponse") } };

const segmentOp = (summary: string, body: string) => ({
  post: {
    summary,
    tags: ["sdk"],
    security: [{ writeKeyBasic: [] }, {}],
    requestBody: {
      required: true,
      description: `JSON (also sent as text/plain or form-urlencoded by browser SDKs), optionally gzip. Max ${MAX_EVENT_BYTES} bytes per event, ${MAX_BATCH_BYTES} per batch.`,
      content: { "application/json": { schema: ref(body) }, "text/plain": { schema: ref(body) } },
    },
    responses: { ...accepted, ...errors },
  },
});

export function openApiDocument() {
  const paths: Record<string, unknown> = {
    "/v1/batch": segmentOp("Segment batch: many events of any type", "SegmentBatch"),
    "/v1/track": segmentOp("Segment track", "TrackEvent"),
    "/v1/page": segmentOp("Segment page", "PageEvent"),
    "/v1/screen": segmentOp("Segment screen", "ScreenEvent"),
    "/v1/identify": segmentOp("Segment identify", "IdentifyEvent"),
    "/v1/group": segmentOp("Segment group", "GroupEvent"),
    "/v1/alias": segmentOp("Segment alias", "AliasEvent"),
    "/v1/webhooks/shopify": {
      post: {
        summary: "Shopify webhook (X-Shopify-Hmac-Sha256, X-Shopify-Topic, X-Shopify-Webhook-Id)",
        tags: ["webhooks"],
        requestBody: { required: true, content: json("ShopifyWebhookBody") },
        responses: { ...accepted, ...errors },
      },
    },
    "/v1/webhooks/hubspot": {
      post: {
        summary: "HubSpot webhook, signature v3 (X-HubSpot-Signature-v3, X-HubSpot-Request-Timestamp)",
        tags: ["webhooks"],
        requestBody: { required: true, content: json("HubSpotWebhookBody") },
        responses: { ...accepted, ...errors },
      },
    },
    "/v1/webhooks/{source}": {
      post: {
        summary: "Any HMAC-signed source: X-Tideline-Signature: t=<unix s>,v1=<hex HMAC-SHA256(secret, t.body)>",
        tags: ["webhooks"],
        parameters: [
          { name: "source", in: "path", required: true, schema: { type: "string" } },
          { name: "Idempotency-Key", in: "header", required: false, schema: { type: "string" }, description: "Delivery id; a replayed body is stored once whatever key it carries (the topic comes from the signed body: type, event or topic)." },
        ],
        requestBody: { required: true, content: json("GenericWebhookBody") },
        responses: { ...accepted, ...errors },
      },
    },
    "/v1/cdc": {
      post: {
        summary: "Debezium change events: one object, an array or NDJSON, with or without {schema, payload}",
        tags: ["cdc"],
        security: [{ cdcBearer: [] }],
        requestBody: {
          required: true,
          content: {
            "application/json": { schema: { oneOf: [ref("DebeziumChangeEvent"), { type: "array", items: ref("DebeziumChangeEvent") }] } },
            "application/x-ndjson": { schema: { type: "string" } },
          },
        },
        responses: { ...accepted, ...errors },
      },
    },
    "/v1/bulk/{stream}": {
      post: {
        summary: "Backfill file (NDJSON, optionally gzip) of Segment events, webhook deliveries ({headers, body}) or Debezium change events, enriched at the edge and stored in the landing bucket",
        tags: ["bulk"],
        security: [{ bulkBearer: [] }, { cdcBearer: [] }],
        parameters: [
          { name: "stream", in: "path", required: true, schema: { type: "string", enum: ["events", "webhooks", "cdc"] } },
          { name: "X-Tideline-Signature", in: "header", required: false, schema: { type: "string" }, description: "webhooks only: t=<unix s>,v1=<hex HMAC-SHA256(source secret, t.file)> over the uncompressed file." },
        ],
        requestBody: { required: true, content: { "application/x-ndjson": { schema: { type: "string" } } } },
        responses: {
          "200": { description: "Stored in the landing bucket", content: json("BulkResponse") },
          ...errors,
          "403": { description: "The token is not granted this stream, or its webhook source has no signing secret", content: json("ErrorResponse") },
          "404": { description: "Unknown stream", content: json("ErrorResponse") },
        },
      },
    },
    "/healthz": { get: { summary: "Liveness", tags: ["meta"], responses: { "200": { description: "ok" } } } },
    "/v1/openapi.json": { get: { summary: "This document", tags: ["meta"], responses: { "200": { description: "OpenAPI 3.1" } } } },
  };
  return {
    openapi: "3.1.0",
    info: {
      title: "tideline edge",
      version: "1",
      description: "Segment-compatible tracking API, signed webhooks and Debezium CDC ingestion. Generated from contracts/.",
    },
    servers: [{ url: "http://127.0.0.1:8787", description: "local (npm start)" }],
    paths,
    components: {
      securitySchemes: {
        writeKeyBasic: { type: "http", scheme: "basic", description: "Write key as the username, empty password (or writeKey in the body)." },
        cdcBearer: { type: "http", scheme: "bearer" },
        bulkBearer: { type: "http", scheme: "bearer", description: "A BULK_TOKENS token granted the stream (server-side; never a write key). cdc uploads take the CDC token." },
      },
      schemas: {
        SegmentBatch: schema(SegmentBatch),
        SegmentEvent: schema(SegmentEvent),
        TrackEvent: schema(TrackEvent),
        PageEvent: schema(PageEvent),
        ScreenEvent: schema(ScreenEvent),
        IdentifyEvent: schema(IdentifyEvent),
        GroupEvent: schema(GroupEvent),
        AliasEvent: schema(AliasEvent),
        ShopifyWebhookBody: schema(ShopifyWebhookBody),
        HubSpotWebhookBody: schema(HubSpotWebhookBody),
        GenericWebhookBody: schema(GenericWebhookBody),
        DebeziumChangeEvent: schema(DebeziumPayload),
        AcceptedResponse: schema(AcceptedResponse, "output"),
        ErrorResponse: schema(ErrorResponse, "output"),
        BulkResponse: schema(BulkResponse, "output"),
        EventRecord: schema(EventRecord, "output"),
        WebhookRecord: schema(WebhookRecord, "output"),
        CdcRecord: schema(CdcRecord, "output"),
        DeadLetterRecord: schema(DeadLetterRecord, "output"),
      },
    },
  };
}
