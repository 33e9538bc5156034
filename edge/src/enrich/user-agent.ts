/**
 * User agent → browser, OS, device and bot flag with ua-parser-js (MIT 1.x line) and isbot.
 * Parsing costs tens of microseconds, and a batch almost always repeats one user agent, so results
 * are memoized per isolate in a small bounded map.
 *
 * Which user agent speaks for the visitor (judgeAgent): the event's own context.userAgent when the
 * client sent one; the request's User-Agent only when a browser library sent the event. Server-side
 * libraries (analytics-node, analytics-python, Go-http-client, okhttp, axios, curl, …) post from a
 * backend: their user agent names an HTTP client, not a visitor, and isbot would call every one of
 * them a bot. Such events are server-side: never bots by the request's user agent.
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

export interface AgentJudgement extends UserAgentInfo {
  is_server_side: boolean;
}

/**
 * HTTP clients and server SDKs, as the start of a User-Agent header. isbot flags every one of these;
 * a crawler that runs JavaScript sends a browser's user agent instead and is still judged.
 */
const SERVER_AGENT =
  /^(?:analytics-(?:node|python|ruby|go|java|php|dotnet)|analytics-node-next|@segment\/analytics-node|rudder-?(?:sdk|stack)?[-/_]?(?:node|python|go|java|ruby|php|dotnet|server)|go-http-client|okhttp|axios|node-fetch|undici|node\/|node\.js|bun\/|deno\/|python-(?:requests|urllib|httpx)|python\/|aiohttp|httpx|curl|wget|java\/|apache-httpclient|jersey|ruby|faraday|guzzlehttp|libcurl|dart|postmanruntime|insomnia|got[ /(]|superagent|restsharp|\.net|dotnet|httpie|php|reqwest|hyper\/|ktor|vert\.x|spring)/i;

/** Segment/RudderStack library names (context.library.name) of browser SDKs. */
const BROWSER_LIBRARIES = new Set(["analytics.js", "analytics-next", "@segment/analytics-next", "analytics-js", "rudderlabs javascript sdk", "rudder-analytics.js", "@rudderstack/analytics-js", "tideline-js"]);
/** Library names of server SDKs: their events are server-side whatever HTTP client sent them. */
const SERVER_LIBRARIES = new Set([
  "analytics-node", "@segment/analytics-node", "analytics-node-next", "analytics-python", "analytics-ruby", "analytics-go", "analytics-java",
  "analytics-php", "analytics.net", "analytics-dotnet", "analytics-csharp", "rudder-sdk-node", "@rudderstack/rudder-sdk-node", "rudder-sdk-python",
  "rudder-sdk-go", "rudder-sdk-java", "rudder-sdk-ruby", "rudder-sdk-php",
]);

export const isServerAgent = (ua: string) => SERVER_AGENT.test(ua);

const SERVER_SIDE: AgentJudgement = { ...EMPTY, is_server_side: true };
const UNKNOWN_BROWSER: AgentJudgement = { ...EMPTY, is_server_side: false };
/** Judgements per user agent (a batch almost always repeats one), bounded like the parse cache. */
const judged = new Map<string, AgentJudgement>();
function judge(ua: string): AgentJudgement {
  let j = judged.get(ua);
  if (!j) {
    j = isServerAgent(ua) ? SERVER_SIDE : { ...parseUserAgent(ua), is_server_side: false };
    if (judged.size >= MAX_CACHED) judged.delete(judged.keys().next().value as string);
    judged.set(ua, j);
  }
  return j;
}

/**
 * The user agent columns and the bot and server-side flags of one event: from `contextUa` (the
 * event's context.userAgent) when present, else from `requestUa` (the HTTP request's) unless a
 * server library sent the event. `library` is context.library.name.
 */
export function judgeAgent(contextUa: string | null, requestUa: string | null, library: string | null): AgentJudgement {
  if (contextUa) return judge(contextUa);
  const lib = library?.toLowerCase() ?? null;
  if (lib && BROWSER_LIBRARIES.has(lib)) return requestUa ? browserJudge(requestUa) : UNKNOWN_BROWSER;
  if ((lib && SERVER_LIBRARIES.has(lib)) || !requestUa) return SERVER_SIDE;
  return judge(requestUa);
}

/** A browser library's request: its user agent is the visitor's, even if it names an HTTP client. */
function browserJudge(ua: string): AgentJudgement {
  const j = judge(ua);
  return j === SERVER_SIDE ? { ...parseUserAgent(ua), is_server_side: false } : j;
}
