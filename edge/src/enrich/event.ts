/** Builds the EventRecord (contracts/records.ts) of one validated Segment event. */
import type { z } from "zod";
import type { EventRecord } from "../../../contracts/records.js";

/** An EventRecord as it travels: null columns left out (the schema's input type restores them). */
export type EventRecordWire = z.input<typeof EventRecord>;
const wire = <T>(v: T | null): T | undefined => (v === null ? undefined : v);
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

/**
 * The context kept in the record: as sent, minus what became columns of its own (ip is never kept;
 * library, consent and the page's url/path/referrer are in library_*, consent*, page_*, referrer_url).
 * Keeping them twice made every record a third larger on the queue, in Pub/Sub and in storage.
 */
function contextForRecord(context: Obj, withheld: boolean): Obj {
  const copy: Obj = {};
  for (const k in context) {
    if (k === "ip" || k === "library" || k === "consent") continue;
    const v = context[k];
    if (k === "page" && v && typeof v === "object") {
      const page: Obj = {};
      for (const pk in v as Obj) if (pk !== "url" && pk !== "path" && pk !== "referrer") page[pk] = (v as Obj)[pk];
      copy.page = page;
    } else copy[k] = v;
  }
  if (withheld) stripContextIdentifiers(copy);
  return copy;
}

const EMPTY: Obj = {};

/** Returns the record, or null when the event must be dropped for lack of consent (CONSENT_MODE=drop). */
export function toEventRecord(e: SegmentEventParsed, f: RequestFacts, cfg: EdgeConfig): EventRecordWire | null {
  const ev = e as SegmentEventParsed & Obj;
  const rawContext = obj(ev.context);
  const consent = consentOf(rawContext, cfg.CONSENT_CATEGORY);
  const withheld = consent.analytics === false || (cfg.CONSENT_REQUIRED && consent.analytics !== true);
  if (withheld && cfg.CONSENT_MODE === "drop") return null;

  const messageId = typeof ev.messageId === "string" ? ev.messageId : `tl-${stableId(f.source, JSON.stringify(ev))}`;
  const time = eventTime(f.receivedAt, (ev.timestamp ?? ev.originalTimestamp) as string | undefined, (ev.sentAt as string | undefined) ?? f.sentAt);

  const page = obj(rawContext.page);
  const pageUrl = strOrNull(page.url);
  const parsedPage = parseUrl(pageUrl);
  const refRaw = strOrNull(page.referrer) ?? undefined;
  const campaign = campaignFrom(rawContext.campaign as Obj | undefined, parsedPage);
  const referrer = classifyReferrer(parseUrl(refRaw), refRaw, parsedPage?.host ?? null, campaign.campaign_medium, campaign.campaign_click_id);
  const ua = parseUserAgent(strOrNull(rawContext.userAgent) ?? f.userAgent);
  const library = obj(rawContext.library);
  const geo = f.geo;

  const eventIp = strOrNull(rawContext.ip);
  const ip = withheld ? null : eventIp ? anonymizeIp(eventIp, cfg.IP_MODE, cfg.IP_HASH_KEY) : anonymizedIp(f.clientIp, cfg);
  let roots = {
    properties: obj(ev.properties),
    traits: withheld ? EMPTY : obj(ev.traits),
    context: contextForRecord(rawContext, withheld),
  };
  if (cfg.PII_FIELDS.length) roots = pseudonymize(roots, cfg.PII_FIELDS, cfg.PII_HASH_KEY);

  const type = ev.type;
  // One literal with every column in contract order (no spreads: this runs once per event). Null
  // columns become undefined, which JSON.stringify leaves out natively: the wire form of the record.
  return {
    event_id: stableId(f.source, messageId),
    message_id: messageId,
    source: f.source,
    type,
    event: wire(type === "track" ? (ev.event as string) : null),
    name: wire(type === "page" || type === "screen" ? strOrNull(ev.name) : null),
    user_id: wire(withheld ? null : strOrNull(ev.userId)),
    anonymous_id: wire(withheld ? null : strOrNull(ev.anonymousId)),
    group_id: wire(type === "group" && !withheld ? strOrNull(ev.groupId) : null),
    previous_id: wire(type === "alias" && !withheld ? strOrNull(ev.previousId) : null),
    event_ts: time.event_ts,
    received_at: f.receivedAtIso,
    sent_at: wire(time.sent_at),
    original_ts: wire(time.original_ts),
    clock_skew_ms: wire(time.clock_skew_ms),
    properties: roots.properties,
    traits: roots.traits,
    context: roots.context,
    integrations: obj(ev.integrations),
    consent_analytics: wire(consent.analytics),
    consent_stripped: withheld,
    consent: consent.preferences,
    ip: wire(ip),
    geo_country: wire(geo.geo_country),
    geo_region: wire(geo.geo_region),
    geo_city: wire(geo.geo_city),
    geo_timezone: wire(geo.geo_timezone),
    geo_source: geo.geo_source,
    ua_browser: wire(ua.ua_browser),
    ua_browser_version: wire(ua.ua_browser_version),
    ua_os: wire(ua.ua_os),
    ua_os_version: wire(ua.ua_os_version),
    ua_device_type: wire(ua.ua_device_type),
    ua_device_vendor: wire(ua.ua_device_vendor),
    ua_device_model: wire(ua.ua_device_model),
    is_bot: ua.is_bot,
    is_server_side: false,
    page_url: wire(pageUrl),
    page_path: wire(strOrNull(page.path) ?? parsedPage?.path ?? null),
    page_host: wire(parsedPage?.host ?? null),
    referrer_url: wire(refRaw ?? null),
    referrer_host: wire(referrer.referrer_host),
    referrer_medium: wire(referrer.referrer_medium),
    referrer_source: wire(referrer.referrer_source),
    campaign_source: wire(campaign.campaign_source),
    campaign_medium: wire(campaign.campaign_medium),
    campaign_name: wire(campaign.campaign_name),
    campaign_term: wire(campaign.campaign_term),
    campaign_content: wire(campaign.campaign_content),
    campaign_click_id: wire(campaign.campaign_click_id),
    library_name: wire(strOrNull(library.name)),
    library_version: wire(strOrNull(library.version)),
    request_id: f.requestId,
  };
}
