/**
 * What a bulk upload's dead letter keeps of a refused line: the line with the PII the settings name
 * pseudonymized and its IPs anonymized, as the live path would have stored them had the line been
 * valid. A dead letter is data at rest (the dead-letter topic, the archive, ops.dead_letters):
 * keeping the raw line kept raw emails, phones and IPs there.
 *
 * A line that is JSON gets the configured treatment of its stream (events: PII_FIELDS, IP_MODE for
 * context.ip, user ids that are emails; webhooks: the source's WEBHOOK_PII_FIELDS in the body; CDC:
 * the table's CDC_PII_FIELDS in before and after). A line that is not JSON (or the head of an
 * over-long one) has no fields to go by: email addresses, IP addresses and international phone
 * numbers found in the text are masked. Hand-written patterns: no library masks free text by these
 * shapes, and they only need to be conservative (masking too much of a refused line costs little).
 */
import type { Stream } from "../../../contracts/records.js";
import type { EdgeConfig } from "../config.js";
import { anonymizeIp } from "../enrich/ip.js";
import { looksLikeEmail, pseudonymOf, pseudonymizeValue } from "../enrich/pii.js";

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

const EMAIL = /[^\s"'<>,;:()[\]{}]+@[^\s"'<>,;:()[\]{}]+\.[a-z]{2,}/gi;
// Not after a slash or a dot: version numbers in user agents (Chrome/124.0.0.0) are no addresses.
const IPV4 = /(?<![\w/.])(?:\d{1,3}\.){3}\d{1,3}(?![\w.])/g;
// Three colons at least, or "::": times (17:28:14) are no addresses.
const IPV6 = /(?<![\w:])(?:(?:[0-9a-f]{1,4}:){3,7}[0-9a-f]{0,4}|[0-9a-f]{0,4}(?::[0-9a-f]{1,4})*::[0-9a-f:]*)(?:%\w+)?(?![\w:])/gi;
const PHONE = /\+\d[\d\s().-]{5,}\d/g;

/** Free text with emails, IPs and international phone numbers masked. */
export function maskText(text: string): string {
  return text.replace(EMAIL, "[email]").replace(IPV6, "[ip]").replace(IPV4, "[ip]").replace(PHONE, "[phone]");
}

const hashKey = (cfg: EdgeConfig) => cfg.PII_HASH_KEY;

function protectEvent(e: Obj, cfg: EdgeConfig): Obj {
  let out = pseudonymizeValue(e, cfg.PII_FIELDS, hashKey(cfg));
  const ctx = out.context;
  if (isObj(ctx) && typeof ctx.ip === "string") {
    out = { ...out, context: { ...ctx, ip: safeIp(ctx.ip, cfg) } };
  }
  for (const k of ["userId", "user_id"]) {
    const v = out[k];
    if (typeof v === "string" && looksLikeEmail(v)) out = { ...out, [k]: hashKey(cfg) ? pseudonymOf(hashKey(cfg)!, v) : "[email]" };
  }
  return out;
}

function safeIp(ip: string, cfg: EdgeConfig): string | null {
  try {
    return anonymizeIp(ip, cfg.IP_MODE, cfg.IP_HASH_KEY) ?? null;
  } catch {
    return null;
  }
}

function webhookPaths(cfg: EdgeConfig, source: string): string[][] {
  return (Object.hasOwn(cfg.WEBHOOK_PII_FIELDS, source) ? cfg.WEBHOOK_PII_FIELDS[source] : cfg.WEBHOOK_PII_FIELDS["*"]) ?? [];
}

function protectDelivery(line: Obj, source: string, cfg: EdgeConfig): Obj {
  const paths = webhookPaths(cfg, source);
  const raw = line.body;
  let body: unknown;
  if (typeof raw === "string") {
    try {
      body = JSON.stringify(pseudonymizeValue(JSON.parse(raw) as unknown, paths, hashKey(cfg)));
    } catch {
      body = maskText(raw);
    }
  } else {
    body = pseudonymizeValue(raw, paths, hashKey(cfg));
  }
  return { ...line, body };
}

function protectChange(item: Obj, cfg: EdgeConfig): Obj {
  const inner = (v: unknown): unknown => {
    if (!isObj(v)) return v;
    if (isObj(v.payload)) return { ...v, payload: inner(v.payload) };
    const table = isObj(v.source) && typeof v.source.table === "string" ? v.source.table : null;
    const paths = table ? (cfg.CDC_PII_FIELDS[table] ?? []) : [];
    let out = v;
    for (const side of ["before", "after"]) if (isObj(out[side])) out = { ...out, [side]: pseudonymizeValue(out[side], paths, hashKey(cfg)) };
    return out;
  };
  if ("key" in item && "value" in item && !("op" in item)) return { ...item, value: inner(item.value) };
  return inner(item) as Obj;
}

/** The text a dead letter keeps of a refused line of a `stream` upload by `source`. */
export function deadLetterPayload(text: string, stream: Stream, source: string, cfg: EdgeConfig): string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return maskText(text);
  }
  if (!isObj(value)) return maskText(text);
  try {
    const out = stream === "events" ? protectEvent(value, cfg) : stream === "webhooks" ? protectDelivery(value, source, cfg) : protectChange(value, cfg);
    return JSON.stringify(out);
  } catch {
    return maskText(text);
  }
}
