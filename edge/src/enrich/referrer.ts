/**
 * Referrer classification (direct, internal, search, social, email, paid, unknown) with a source name.
 * Hand-written: the npm referer-parser ports are unmaintained, and a small host table classifies
 * the traffic e-commerce sites actually get; unknown hosts are reported as `unknown` with their host.
 */
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

/** Looks the host up with and without its public suffix and leading labels (www.google.co.uk → google). */
function lookup(host: string, table: Record<string, string>): string | null {
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
const memo = new WeakMap<Record<string, string>, Map<string, string | null>>();

function lookupUncached(host: string, table: Record<string, string>): string | null {
  const labels = host.replace(/^www\./, "").split(".");
  for (let i = 0; i < labels.length; i++) {
    for (let j = labels.length; j > i; j--) {
      const name = labels.slice(i, j).join(".");
      const hit = table[name];
      if (hit) return hit;
    }
  }
  return null;
}

export function classifyReferrer(ref: ParsedUrl | null, rawRef: string | undefined, pageHost: string | null, campaignMedium: string | null, clickId: string | null): Referrer {
  if (clickId || (campaignMedium && PAID_MEDIUMS.test(campaignMedium))) {
    return { referrer_host: ref?.host ?? null, referrer_medium: "paid", referrer_source: ref ? lookup(ref.host, SEARCH) ?? lookup(ref.host, SOCIAL) : null };
  }
  if (!rawRef) return { referrer_host: null, referrer_medium: "direct", referrer_source: null };
  if (!ref) return { referrer_host: null, referrer_medium: "unknown", referrer_source: null };
  const host = ref.host;
  if (pageHost && (host === pageHost || host.endsWith(`.${pageHost}`) || pageHost.endsWith(`.${host}`))) {
    return { referrer_host: host, referrer_medium: "internal", referrer_source: null };
  }
  const email = lookup(host, EMAIL);
  if (email || (campaignMedium && /^e-?mail$/i.test(campaignMedium))) return { referrer_host: host, referrer_medium: "email", referrer_source: email };
  const search = lookup(host, SEARCH);
  if (search) return { referrer_host: host, referrer_medium: "search", referrer_source: search };
  const social = lookup(host, SOCIAL);
  if (social) return { referrer_host: host, referrer_medium: "social", referrer_source: social };
  return { referrer_host: host, referrer_medium: "unknown", referrer_source: host.replace(/^www\./, "") };
}
