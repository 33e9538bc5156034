/** URL parsing memoized per isolate: page and referrer URLs repeat across the events of a batch. */
export interface ParsedUrl {
  host: string;
  path: string;
  params: URLSearchParams | null;
}

const MAX_CACHED = 2000;
const cache = new Map<string, ParsedUrl | null>();

export function parseUrl(raw: string | undefined | null): ParsedUrl | null {
  if (!raw) return null;
  if (cache.has(raw)) return cache.get(raw)!;
  let parsed: ParsedUrl | null = null;
  try {
    const u = new URL(raw);
    parsed = { host: u.hostname.toLowerCase(), path: u.pathname, params: u.search ? u.searchParams : null };
  } catch {
    parsed = null;
  }
  if (cache.size >= MAX_CACHED) cache.delete(cache.keys().next().value as string);
  cache.set(raw, parsed);
  return parsed;
}
