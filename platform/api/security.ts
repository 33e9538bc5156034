/**
 * Who may talk to the operator API (issue 16: any web page the user visited could start backfills
 * and, through DNS rebinding, read the answers). Each guard is a small middleware:
 *   - allowedHost: the Host header must be 127.0.0.1:<port> or localhost:<port> (a rebound name
 *     such as attacker.example:3000 arrives with its own Host);
 *   - sameOrigin: a request that carries a foreign Origin is refused (and with it every CORS
 *     preflight: none is ever granted); browsers' Sec-Fetch-Site must not be cross-site or same-site;
 *   - requireToken: /api/* needs the per-run token, as `Authorization: Bearer <token>` (the CLI
 *     reads it from .data/) or as the session cookie that GET / sets for the dashboard page;
 *   - jsonOnly: a POST must say `Content-Type: application/json` (HTML forms cannot).
 */
import { timingSafeEqual } from "node:crypto";
import type { MiddlewareHandler } from "hono";
import { getCookie, setCookie } from "hono/cookie";
import { ApiError } from "./errors.js";

export const SESSION_COOKIE = "tideline_operator";

const allowedHosts = (port: number) => [`127.0.0.1:${port}`, `localhost:${port}`];

export function allowedHost(port: () => number): MiddlewareHandler {
  return async function allowedHost(c, next) {
    const host = (c.req.header("host") ?? "").toLowerCase();
    if (!allowedHosts(port()).includes(host)) {
      throw new ApiError(403, "forbidden_host", `requests must be addressed to 127.0.0.1:${port()} or localhost:${port()}, not ${JSON.stringify(host.slice(0, 100))}`, "open http://127.0.0.1:" + port() + "/ directly");
    }
    await next();
  };
}

export function sameOrigin(port: () => number): MiddlewareHandler {
  return async function sameOrigin(c, next) {
    const origin = c.req.header("origin");
    if (origin !== undefined && !allowedHosts(port()).some((h) => origin.toLowerCase() === `http://${h}`)) {
      throw new ApiError(403, "forbidden_origin", `requests from other origins are refused (Origin ${JSON.stringify(origin.slice(0, 100))})`, `call the API from http://127.0.0.1:${port()}/ or from the CLI`);
    }
    const site = c.req.header("sec-fetch-site");
    if (c.req.path.startsWith("/api/") && (site === "cross-site" || site === "same-site")) {
      throw new ApiError(403, "forbidden_origin", `requests from other sites are refused (Sec-Fetch-Site: ${site})`, `call the API from http://127.0.0.1:${port()}/ or from the CLI`);
    }
    await next();
  };
}

function sameToken(given: string | undefined, token: string): boolean {
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

export function requireToken(token: string, tokenFile: string): MiddlewareHandler {
  return async function requireToken(c, next) {
    const auth = c.req.header("authorization");
    const bearer = auth?.match(/^Bearer\s+(\S+)$/i)?.[1];
    if (!sameToken(bearer, token) && !sameToken(getCookie(c, SESSION_COOKIE), token)) {
      throw new ApiError(
        401,
        "unauthorized",
        bearer || auth ? "the token does not match this run of the operator API" : "the operator API needs this run's token",
        `send Authorization: Bearer <the contents of ${tokenFile}> (written at each start), or open the dashboard at / in a browser`,
      );
    }
    await next();
  };
}

/**
 * Gives the page served at GET / the token as an HttpOnly, SameSite=Strict cookie scoped to /api:
 * the page's own requests (fetch and EventSource alike, which cannot add headers) carry it, its
 * scripts never see it, and the browser sends it with no request started from another site.
 */
export function sessionCookie(token: string): MiddlewareHandler {
  return async function sessionCookie(c, next) {
    setCookie(c, SESSION_COOKIE, token, { httpOnly: true, sameSite: "Strict", path: "/api" });
    c.header("cache-control", "no-store");
    await next();
  };
}

export function jsonOnly(): MiddlewareHandler {
  return async function jsonOnly(c, next) {
    if (c.req.method === "POST" && !/^application\/json\s*(;|$)/i.test(c.req.header("content-type") ?? "")) {
      throw new ApiError(415, "unsupported_media_type", `send the body as application/json, not ${JSON.stringify((c.req.header("content-type") ?? "nothing").slice(0, 100))}`, "set the header Content-Type: application/json");
    }
    await next();
  };
}
