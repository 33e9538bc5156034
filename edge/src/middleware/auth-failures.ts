/**
 * Failed authentication is rate-limited per client IP: after AUTH_FAILURE_LIMIT failures in a
 * period (the AUTH_FAILURE_LIMITER binding counts them across the location) the IP gets 429 with
 * Retry-After, and this isolate refuses every request of that IP until the period is over, before
 * reading anything, so a guessed credential cannot be confirmed by a 200 while the IP is blocked.
 * Requests without a known client IP (only possible locally) are not counted.
 */
import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { AUTH_FAILURE_LIMIT, AUTH_FAILURE_PERIOD_SECONDS } from "../../../contracts/limits.js";
import { EdgeError } from "../errors.js";
import type { AppEnv } from "../types.js";
import { clientIp } from "./rate-limit.js";

const MAX_BLOCKED_IPS = 10_000;
const blockedUntil = new Map<string, number>();

const blocked = () =>
  new EdgeError(
    429,
    "rate_limited",
    `too many failed authentications from this IP address (more than ${AUTH_FAILURE_LIMIT} in ${AUTH_FAILURE_PERIOD_SECONDS} s)`,
    `Check the credential you send (write key, token or signing secret), then retry after ${AUTH_FAILURE_PERIOD_SECONDS} seconds.`,
    { "Retry-After": String(AUTH_FAILURE_PERIOD_SECONDS) },
  );

/** Refuses requests of an IP this isolate saw exceed the failure limit, before the route reads anything. */
export const authFailureGate = createMiddleware<AppEnv>(async function authFailureGate(c, next) {
  const ip = clientIp(c);
  const until = ip ? blockedUntil.get(ip) : undefined;
  if (until !== undefined) {
    if (until > Date.now()) throw blocked();
    blockedUntil.delete(ip!);
  }
  await next();
});

/** Counts a failed authentication; returns the 429 to answer instead when the IP is over the limit. */
export async function countAuthFailure(c: Context<AppEnv>): Promise<EdgeError | null> {
  const limiter = c.env.AUTH_FAILURE_LIMITER;
  const ip = clientIp(c);
  if (!limiter || !ip) return null;
  const { success } = await limiter.limit({ key: `auth-failure|${ip}` });
  if (success) return null;
  if (blockedUntil.size >= MAX_BLOCKED_IPS) blockedUntil.clear();
  blockedUntil.set(ip, Date.now() + AUTH_FAILURE_PERIOD_SECONDS * 1000);
  return blocked();
}
