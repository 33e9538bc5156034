/**
 * Rate limiting with the Workers rate-limit binding, keyed by credential and client IP
 * (API.md: 1,000 requests per 10 s by default; the binding's limit and period live in wrangler.toml).
 */
import type { Context } from "hono";
import { DEFAULT_RATE_LIMIT_PERIOD_SECONDS } from "../../../contracts/limits.js";
import { config } from "../config.js";
import { EdgeError } from "../errors.js";
import type { AppEnv } from "../types.js";

/**
 * The client's IP. In staging and production only Cloudflare's CF-Connecting-IP counts: Cloudflare
 * sets it on every request and overwrites a client's, while X-Real-IP is whatever the client wrote.
 * Locally (ENVIRONMENT=dev) a proxy in front of wrangler may set X-Real-IP instead.
 */
export function clientIp(c: Context<AppEnv>): string | null {
  const h = c.req.raw.headers;
  return h.get("cf-connecting-ip") ?? (config(c.env).trustClientHeaders ? h.get("x-real-ip") : null) ?? null;
}

export async function enforceRateLimit(c: Context<AppEnv>, credential: string): Promise<void> {
  const limiter = c.env.RATE_LIMITER;
  if (!limiter) return;
  const key = `${credential}|${clientIp(c) ?? "-"}`;
  const { success } = await limiter.limit({ key });
  if (!success) {
    throw new EdgeError(
      429,
      "rate_limited",
      "too many requests for this credential and client IP",
      `Retry after ${DEFAULT_RATE_LIMIT_PERIOD_SECONDS} seconds, or batch more events per request.`,
      { "Retry-After": String(DEFAULT_RATE_LIMIT_PERIOD_SECONDS) },
    );
  }
}
