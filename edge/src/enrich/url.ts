/**
 * URL parsing memoized per isolate: page and referrer URLs repeat across the events of a batch.
 * A URL is kept only as origin, path and the parameters analysts need (utm_* and ad click ids):
 * query strings carry emails, names, tokens and search terms, and fragments carry access tokens.
 * URLs longer than MAX_URL_CHARS and hosts that cannot be DNS names (over 253 characters or 127
 * labels) are treated as unparsable, which bounds every later look at them.
 */
import { MAX_HOST_CHARS, MAX_HOST_LABELS, MAX_URL_CHARS } from "../../../contracts/limits.js";
import { CLICK_ID_PARAMS } from "./campaign.js";

export interface ParsedUrl {
  host: string;
  path: string;
  params: URLSearchParams | null;
  /** The URL reduced to origin, path, utm_* and click-id parameters. */
  kept: string;
  /** The same without click ids (analytics consent withheld). */
  keptWithoutClickIds: string;
}

const MAX_CACHED = 2000;
const MAX_CACHED_URL_CHARS = 2048;
const MAX_UNPARSED_URL_CHARS = 2048;
const cache = new Map<string, ParsedUrl | null>();
const CLICK_IDS = new Set<string>(CLICK_ID_PARAMS);

export const isUtm = (name: string) => name.length > 4 && name.startsWith("utm_");
export const isClickId = (name: string) => CLICK_IDS.has(name);

/** A query string reduced to utm_* (and, when asked, click-id) parameters: "" or "?a=b&…". */
export function keptQuery(params: URLSearchParams | null, clickIds: boolean): string {
  if (!params) return "";
  const kept = new URLSearchParams();
  for (const [k, v] of params) if (isUtm(k) || (clickIds && isClickId(k))) kept.append(k, v);
  const s = kept.toString();
  return s ? `?${s}` : "";
}

function labelsWithin(host: string): boolean {
  if (host.length > MAX_HOST_CHARS) return false;
  let dots = 0;
  for (let i = 0; i < host.length; i++) if (host.charCodeAt(i) === 46) dots++;
  return dots < MAX_HOST_LABELS;
}

export function parseUrl(raw: string | undefined | null): ParsedUrl | null {
  if (!raw) return null;
  if (cache.has(raw)) return cache.get(raw)!;
  let parsed: ParsedUrl | null = null;
  if (raw.length <= MAX_URL_CHARS) {
    try {
      const u = new URL(raw);
      const host = u.hostname.toLowerCase();
      if (labelsWithin(host)) {
        const params = u.search ? u.searchParams : null;
        // Nothing to remove (the common case): keep the URL as sent.
        const plain = !u.search && !u.hash && !u.username && !u.password;
        const base = plain ? raw : `${u.protocol}//${u.host}${u.pathname}`;
        const kept = plain ? raw : base + keptQuery(params, true);
        parsed = { host, path: u.pathname, params, kept, keptWithoutClickIds: plain ? raw : base + keptQuery(params, false) };
      }
    } catch {
      parsed = null;
    }
  }
  // Long URLs are parsed each time rather than kept: the cache must stay small whatever is sent.
  if (raw.length > MAX_CACHED_URL_CHARS) return parsed;
  if (cache.size >= MAX_CACHED) cache.delete(cache.keys().next().value as string);
  cache.set(raw, parsed);
  return parsed;
}

/**
 * The URL text to store: the reduced URL when it parsed; otherwise what precedes any query or
 * fragment, truncated, since parameters that cannot be told apart cannot be kept selectively.
 */
export function keptUrl(raw: string | null, parsed: ParsedUrl | null, clickIds: boolean): string | null {
  if (!raw) return null;
  if (parsed) return clickIds ? parsed.kept : parsed.keptWithoutClickIds;
  const cut = raw.search(/[?#]/);
  return (cut >= 0 ? raw.slice(0, cut) : raw).slice(0, MAX_UNPARSED_URL_CHARS);
}

const searchCache = new Map<string, [string, string]>();

/** A query string as sent in context.page.search / properties.search, reduced like URLs are. */
export function keptSearch(search: string, clickIds: boolean): string {
  if (!search) return search;
  let hit = searchCache.get(search);
  if (!hit) {
    const params = search.length <= MAX_URL_CHARS ? new URLSearchParams(search) : null;
    hit = [keptQuery(params, true), keptQuery(params, false)];
    if (search.length <= MAX_CACHED_URL_CHARS) {
      if (searchCache.size >= MAX_CACHED) searchCache.delete(searchCache.keys().next().value as string);
      searchCache.set(search, hit);
    }
  }
  return clickIds ? hit[0] : hit[1];
}
