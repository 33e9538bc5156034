/**
 * User agent → browser, OS, device and bot flag with ua-parser-js (MIT 1.x line) and isbot.
 * Parsing costs tens of microseconds, and a batch almost always repeats one user agent, so results
 * are memoized per isolate in a small bounded map.
 */
import UAParser from "ua-parser-js";
import { isbot } from "isbot";

export interface UserAgentInfo {
  ua_browser: string | null;
  ua_browser_version: string | null;
  ua_os: string | null;
  ua_os_version: string | null;
  ua_device_type: string | null;
  ua_device_vendor: string | null;
  ua_device_model: string | null;
  is_bot: boolean;
}

const EMPTY: UserAgentInfo = {
  ua_browser: null,
  ua_browser_version: null,
  ua_os: null,
  ua_os_version: null,
  ua_device_type: null,
  ua_device_vendor: null,
  ua_device_model: null,
  is_bot: false,
};

const MAX_CACHED = 2000;
const cache = new Map<string, UserAgentInfo>();

export function parseUserAgent(ua: string | undefined | null): UserAgentInfo {
  if (!ua) return EMPTY;
  const hit = cache.get(ua);
  if (hit) return hit;
  const r = new UAParser(ua).getResult();
  const bot = isbot(ua);
  const info: UserAgentInfo = {
    ua_browser: r.browser.name ?? null,
    ua_browser_version: r.browser.major ?? null,
    ua_os: r.os.name ?? null,
    ua_os_version: r.os.version ?? null,
    // ua-parser-js leaves desktop devices untyped.
    ua_device_type: r.device.type ?? (bot ? null : r.os.name || r.browser.name ? "desktop" : null),
    ua_device_vendor: r.device.vendor ?? null,
    ua_device_model: r.device.model ?? null,
    is_bot: bot,
  };
  if (cache.size >= MAX_CACHED) cache.delete(cache.keys().next().value as string);
  cache.set(ua, info);
  return info;
}
