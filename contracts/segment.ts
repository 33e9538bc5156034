/**
 * Segment Spec events as SDKs send them to the HTTP Tracking API
 * (track, page, screen, identify, group, alias), accepted in their loose real-world form:
 * unknown fields are kept, numeric ids are coerced to strings, `type` may come from the path.
 */
import { z } from "zod";
import { MAX_ID_CHARS } from "./limits.js";

/** An id as SDKs send it: a non-empty string, or a number (kept as its decimal text). */
const Id = z.union([
  z.string().min(1, "must not be empty").max(MAX_ID_CHARS, `must be at most ${MAX_ID_CHARS} characters`),
  z.number().transform((v) => String(v)),
]);

/** ISO-8601 date-time as clients send it (offsets allowed, fraction optional). */
export const ClientTimestamp = z
  .string()
  .refine((s) => !Number.isNaN(Date.parse(s)), "must be an ISO-8601 date-time");

/**
 * A JSON object, checked without copying its members: properties, traits and context are free-form,
 * and copying them key by key (z.record/looseObject) tripled validation time per event.
 * The enrichment reads context fields defensively, so their documented shapes are advisory.
 */
const jsonObject = (description: string, documented?: z.ZodType) =>
  z
    .custom<Record<string, unknown>>((v) => typeof v === "object" && v !== null && !Array.isArray(v), { message: "must be a JSON object" })
    .meta({ ...(documented ? z.toJSONSchema(documented, { unrepresentable: "any" }) : { type: "object" }), $schema: undefined, description });

const Obj = jsonObject("JSON object");

/** Documented Segment context fields (for OpenAPI); enforced only as "a JSON object". */
const SegmentContextFields = z
  .looseObject({
    ip: z.string().optional(),
    userAgent: z.string().optional(),
    locale: z.string().optional(),
    timezone: z.string().optional(),
    library: z.looseObject({ name: z.string().optional(), version: z.string().optional() }).optional(),
    page: z
      .looseObject({
        url: z.string().optional(),
        path: z.string().optional(),
        referrer: z.string().optional(),
        title: z.string().optional(),
        search: z.string().optional(),
      })
      .optional(),
    campaign: z.record(z.string(), z.unknown()).optional(),
    traits: z.record(z.string(), z.unknown()).optional(),
    consent: z.looseObject({ categoryPreferences: z.record(z.string(), z.boolean()).optional() }).optional(),
  });

export const SegmentContext = jsonObject("Segment context object: library, page, campaign, userAgent, ip, consent, traits…", SegmentContextFields);

export const SEGMENT_TYPES = ["track", "page", "screen", "identify", "group", "alias"] as const;
export type SegmentType = (typeof SEGMENT_TYPES)[number];

const Common = {
  messageId: Id.optional(),
  timestamp: ClientTimestamp.optional(),
  originalTimestamp: ClientTimestamp.optional(),
  sentAt: ClientTimestamp.optional(),
  userId: Id.nullish(),
  anonymousId: Id.nullish(),
  context: SegmentContext.optional(),
  integrations: Obj.optional(),
  writeKey: z.string().optional(),
};

const identified = <T extends z.ZodObject>(s: T) =>
  s.refine((e: { userId?: unknown; anonymousId?: unknown }) => Boolean(e.userId) || Boolean(e.anonymousId), {
    message: "userId or anonymousId is required",
    path: ["userId"],
  });

export const TrackEvent = identified(
  z.looseObject({ ...Common, type: z.literal("track"), event: z.string().min(1).max(MAX_ID_CHARS), properties: Obj.optional() }),
);
export const PageEvent = identified(
  z.looseObject({ ...Common, type: z.literal("page"), name: z.string().nullish(), category: z.string().nullish(), properties: Obj.optional() }),
);
export const ScreenEvent = identified(
  z.looseObject({ ...Common, type: z.literal("screen"), name: z.string().nullish(), category: z.string().nullish(), properties: Obj.optional() }),
);
export const IdentifyEvent = identified(z.looseObject({ ...Common, type: z.literal("identify"), traits: Obj.optional() }));
export const GroupEvent = identified(
  z.looseObject({ ...Common, type: z.literal("group"), groupId: Id, traits: Obj.optional() }),
);
export const AliasEvent = z.looseObject({ ...Common, type: z.literal("alias"), previousId: Id, userId: Id });

// Zod 4 keeps refined objects as objects, so the refined schemas can be union members.
export const SegmentEvent = z.discriminatedUnion("type", [TrackEvent, PageEvent, ScreenEvent, IdentifyEvent, GroupEvent, AliasEvent]);

export const SegmentBatch = z.looseObject({
  batch: z.array(z.unknown()).min(1, "batch must hold at least one event"),
  writeKey: z.string().optional(),
  sentAt: ClientTimestamp.optional(),
  context: SegmentContext.optional(),
  integrations: Obj.optional(),
});

export type SegmentEventInput = z.input<typeof SegmentEvent>;
export type SegmentEventParsed = z.output<typeof SegmentEvent>;
