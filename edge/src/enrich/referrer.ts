/**
 * Referrer classification (direct, internal, search, social, email, paid, unknown) with a source name.
 * Hand-written: the npm referer-parser ports are unmaintained, and a small host table classifies
 * the traffic e-commerce sites actually get; unknown hosts are reported as `unknown` with their host.
 */
import { MAX_HOST_CHARS, MAX_HOST_LABELS } from "../../../contracts/limits.js";
import type { ParsedUrl } from "./url.js";

const SEARCH: Record<string, string> = {
  google: "google", bing: "bing", duckduckgo: "duckduckgo", yahoo: "yahoo", baidu: "baidu", yandex: "yandex",
  ecosia: "ecosia", "search.brave": "brave", qwant: "qwant", naver: "naver", seznam: "seznam", startpage: "startpage",
};
const SOCIAL: Record<string, string> = {
  facebook: "facebook", fb: "facebook", "m.facebook": "facebook", "l.facebook": "facebook", "lm.facebook": "facebook",
  instagram: "instagram", "l.instagram": "instagram", twitter: "twitter", "t.co": "twitter", x: "twitter",
  linkedin: "linkedin", lnkd: "linkedin", pinterest: "pinterest", "pin.it": "pinterest", reddit: "reddit",
  tiktok: "tiktok", youtube: "youtube", "youtu.be": "youtube", snapchat: "snapchat", threads: "threads",
  whatsapp: "whatsapp", telegram: "telegram", "t.me": "telegram", vk: "vk", weibo: "weibo", tumblr: "tumblr",
};
const EMAIL: Record<string, string> = {
  "mail.google": "gmail", "outlook.live": "outlook", "outlook.office": "outlook", "mail.yahoo": "yahoo_mail",
  "mail.aol": "aol_mail", "mail.proton": "proton_mail", "webmail": "webmail", "mail.zoho": "zoho_mail",
};
const PAID_MEDIUMS = /^(cpc|ppc|paid|paidsearch|paid_search|paid_social|paidsocial|display|cpm|cpv|affiliate|retargeting)$/i;

export interface Referrer {
  referrer_host: string | null;
  referrer_medium: string | null;
  referrer_source: string | null;
}

type Table = Map<string, string>;
/** Maps, not object lookups: a host label such as "constructor" must not find Object's members. */
const [SEARCH_T, SOCIAL_T, EMAIL_T] = [SEARCH, SOCIAL, EMAIL].map((t) => new Map(Object.entries(t))) as [Table, Table, Table];
/** Most labels of any name in a table ("search.brave" → 2): no longer window of a host can match. */
const WINDOW = new Map<Table, number>([SEARCH_T, SOCIAL_T, EMAIL_T].map((t) => [t, Math.max(...[...t.keys()].map((k) => k.split(".").length))]));

/** Table probes made, for tests that the work per host is linear in its labels (never timed). */
export const referrerLookups = { count: 0 };

/** Looks the host up with and without its public suffix and leading labels (www.google.co.uk → google). */
function lookup(host: string, table: Table): string | null {
  let perTable = memo.get(table);
  if (!perTable) memo.set(table, (perTable = new Map()));
  let hit = perTable.get(host);
  if (hit === undefined) {
    hit = lookupUncached(host, table);
    if (perTable.size > 5000) perTable.clear();
    perTable.set(host, hit);
  }
  return hit;
}
const memo = new WeakMap<Table, Map<string, string | null>>();

/**
 * Every window of consecutive labels, leftmost first and longest first, up to the table's longest
 * name: hosts have at most 127 labels (url.ts), so a host costs at most 127 × window probes per table.
 */
function lookupUncached(host: string, table: Table): string | null {
  if (host.length > MAX_HOST_CHARS) return null;
  const labels = host.replace(/^www\./, "").split(".");
  if (labels.length > MAX_HOST_LABELS) return null;
  const window = WINDOW.get(table)!;
  for (let i = 0; i < labels.length; i++) {
    for (let w = Math.min(window, labels.length - i); w > 0; w--) {
      referrerLookups.count++;
      const hit = table.get(w === 1 ? labels[i]! : labels.slice(i, i + w).join("."));
      if (hit) return hit;
    }
  }
  return null;
}

export function classifyReferrer(ref: ParsedUrl | null, rawRef: string | undefined, pageHost: string | null, campaignMedium: string | null, clickId: string | null): Referrer {
  if (clickId || (campaignMedium && PAID_MEDIUMS.test(campaignMedium))) {
    return { referrer_host: ref?.host ?? null, referrer_medium: "paid", referrer_source: ref ? lookup(ref.host, SEARCH_T) ?? lookup(ref.host, SOCIAL_T) : null };
  }
  if (!rawRef) return { referrer_host: null, referrer_medium: "direct", referrer_source: null };
  if (!ref) return { referrer_host: null, referrer_medium: "unknown", referrer_source: null };
  const host = ref.host;
  if (pageHost && (host === pageHost || host.endsWith(`.${pageHost}`) || pageHost.endsWith(`.${host}`))) {
    return { referrer_host: host, referrer_medium: "internal", referrer_source: null };
  }
  const email = lookup(host, EMAIL_T);
  if (email || (campaignMedium && /^e-?mail$/i.test(campaignMedium))) return { referrer_host: host, referrer_medium: "email", referrer_source: email };
  const search = lookup(host, SEARCH_T);
  if (search) return { referrer_host: host, referrer_medium: "search", referrer_source: search };
  const social = lookup(host, SOCIAL_T);
  if (social) return { referrer_host: host, referrer_medium: "social", referrer_source: social };
  return { referrer_host: host, referrer_medium: "unknown", referrer_source: host.replace(/^www\./, "") };
}
