/** Builds the EventRecord (contracts/records.ts) of one validated Segment event. */
import type { EventRecord } from "../../../contracts/records.js";
import type { SegmentEventParsed } from "../../../contracts/segment.js";
import type { EdgeConfig } from "../config.js";
import { campaignFrom } from "./campaign.js";
import { consentOf, stripContextIdentifiers } from "./consent.js";
import type { Geo } from "./geo.js";
import { stableId } from "./hash.js";
import { anonymizeIp } from "./ip.js";
import { pseudonymize } from "./pii.js";
import { classifyReferrer } from "./referrer.js";
import { eventTime } from "./time.js";
import { parseUrl } from "./url.js";
import { parseUserAgent } from "./user-agent.js";

/** What the request contributes to every event it carries. */
export interface RequestFacts {
  source: string;
  receivedAt: number;
  /** receivedAt as ISO-8601, formatted once per request. */
  receivedAtIso: string;
  requestId: string;
  /** Client IP as the edge saw it (CF-Connecting-IP), before anonymization. */
  clientIp: string | null;
  /** User agent header, used when the event's context has none (browser beacons). */
  userAgent: string | null;
  geo: Geo;
  /** Batch-level sentAt, for events without their own. */
  sentAt?: string;
}

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (v && typeof v === "object" && !Array.isArray(v) ? (v as Obj) : {});
const strOrNull = (v: unknown) => (typeof v === "string" && v !== "" ? v : null);

/** Anonymized request IPs per isolate: the same IP repeats in every event of a request. */
const ipCache = new Map<string, string | null>();
function anonymizedIp(ip: string | null, cfg: EdgeConfig): string | null {
  if (!ip) return null;
  const k = `${cfg.IP_MODE}:${ip}`;
  let v = ipCache.get(k);
  if (v === undefined) {
    v = anonymizeIp(ip, cfg.IP_MODE, cfg.IP_HASH_KEY);
    if (ipCache.size > 5000) ipCache.clear();
    ipCache.set(k, v);
  }
  return v;
}

/** Returns the record, or null when the event must be dropped for lack of consent (CONSENT_MODE=drop). */
export function toEventRecord(e: SegmentEventParsed, f: RequestFacts, cfg: EdgeConfig): EventRecord | null {
  const ev = e as SegmentEventParsed & Obj;
  const context = { ...obj(ev.context) };
  const consent = consentOf(context, cfg.CONSENT_CATEGORY);
  const withheld = consent.analytics === false || (cfg.CONSENT_REQUIRED && consent.analytics !== true);
  if (withheld && cfg.CONSENT_MODE === "drop") return null;

  const messageId = typeof ev.messageId === "string" ? ev.messageId : `tl-${stableId(f.source, JSON.stringify(ev))}`;
  const time = eventTime(f.receivedAt, (ev.timestamp ?? ev.originalTimestamp) as string | undefined, (ev.sentAt as string | undefined) ?? f.sentAt);

  const page = obj(context.page);
  const pageUrl = strOrNull(page.url);
  const parsedPage = parseUrl(pageUrl);
  const refRaw = strOrNull(page.referrer) ?? undefined;
  const campaign = campaignFrom(context.campaign as Obj | undefined, parsedPage);
  const referrer = classifyReferrer(parseUrl(refRaw), refRaw, parsedPage?.host ?? null, campaign.campaign_medium, campaign.campaign_click_id);
  const ua = parseUserAgent(strOrNull(context.userAgent) ?? f.userAgent);
  const library = obj(context.library);

  const eventIp = strOrNull(context.ip);
  const ip = withheld ? null : eventIp ? anonymizeIp(eventIp, cfg.IP_MODE, cfg.IP_HASH_KEY) : anonymizedIp(f.clientIp, cfg);
  delete context.ip;
  const properties = { ...obj(ev.properties) };
  let traits = { ...obj(ev.traits) };
  if (withheld) {
    stripContextIdentifiers(context);
    traits = {};
  }
  if (cfg.PII_FIELDS.length) {
    if (context.traits) context.traits = { ...obj(context.traits) };
    pseudonymize({ properties, traits, context }, cfg.PII_FIELDS, cfg.PII_HASH_KEY);
  }

  const type = ev.type;
  return {
    event_id: stableId(f.source, messageId),
    message_id: messageId,
    source: f.source,
    type,
    event: type === "track" ? (ev.event as string) : null,
    name: type === "page" || type === "screen" ? strOrNull(ev.name) : null,
    user_id: withheld ? null : strOrNull(ev.userId),
    anonymous_id: withheld ? null : strOrNull(ev.anonymousId),
    group_id: type === "group" && !withheld ? strOrNull(ev.groupId) : null,
    previous_id: type === "alias" && !withheld ? strOrNull(ev.previousId) : null,
    ...time,
    received_at: f.receivedAtIso,
    properties,
    traits,
    context,
    integrations: obj(ev.integrations),
    consent_analytics: consent.analytics,
    consent_stripped: withheld,
    consent: consent.preferences,
    ip,
    ...f.geo,
    ...ua,
    page_url: pageUrl,
    page_path: strOrNull(page.path) ?? parsedPage?.path ?? null,
    page_host: parsedPage?.host ?? null,
    referrer_url: refRaw ?? null,
    ...referrer,
    ...campaign,
    library_name: strOrNull(library.name),
    library_version: strOrNull(library.version),
    request_id: f.requestId,
  };
}
