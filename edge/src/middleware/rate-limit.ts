/**
 * Rate limiting with the Workers rate-limit binding, keyed by credential and client IP
 * (API.md: 1,000 requests per 10 s by default; the binding's limit and period live in wrangler.toml).
 */
import type { Context } from "hono";
import { DEFAULT_RATE_LIMIT_PERIOD_SECONDS } from "../../../contracts/limits.js";
import { EdgeError } from "../errors.js";
import type { AppEnv } from "../types.js";

export function clientIp(req: Request): string | null {
  return req.headers.get("cf-connecting-ip") ?? req.headers.get("x-real-ip") ?? null;
}

export async function enforceRateLimit(c: Context<AppEnv>, credential: string): Promise<void> {
  const limiter = c.env.RATE_LIMITER;
  if (!limiter) return;
  const key = `${credential}|${clientIp(c.req.raw) ?? "-"}`;
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
