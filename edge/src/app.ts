/** The edge application: middleware shared by every route, the routes, one error path. */
import { Hono } from "hono";
import { cors } from "hono/cors";
import { requestId } from "hono/request-id";
import { EdgeError, errorResponse } from "./errors.js";
import { metaRoutes } from "./routes/meta.js";
import { SEGMENT_PATHS, segmentRoutes } from "./routes/segment.js";
import { config } from "./config.js";
import { authFailureGate } from "./middleware/auth-failures.js";
import { webhookRoutes } from "./routes/webhooks.js";
import { cdcRoutes } from "./routes/cdc.js";
import { bulkRoutes } from "./routes/bulk.js";
import type { AppEnv } from "./types.js";

export function createApp() {
  const app = new Hono<AppEnv>();
  app.use("*", async function receivedAt(c, next) {
    c.set("receivedAt", Date.now());
    await next();
  });
  app.use("*", requestId({ limitLength: 128 }));
  // Browsers post beacons cross-origin to the Segment endpoints only. No credentials: the write key
  // travels in the body or an explicit Authorization header, never in cookies, so no page gets to
  // send a visitor's ambient credentials, and webhooks, CDC and bulk uploads answer no browser.
  const browserCors = cors({
    origin: "*",
    allowMethods: ["POST", "OPTIONS"],
    allowHeaders: ["Content-Type", "Authorization", "Content-Encoding", "X-Request-Id"],
    exposeHeaders: ["X-Request-Id", "Retry-After"],
    maxAge: 86400,
  });
  for (const path of SEGMENT_PATHS) app.use(path, browserCors);
  // Every request reads the configuration first: a wrong one fails here, loudly, with what to fix.
  app.use("*", async function configured(c, next) {
    config(c.env);
    await next();
  });
  app.use("/v1/*", authFailureGate);
  metaRoutes(app);
  segmentRoutes(app);
  webhookRoutes(app);
  cdcRoutes(app);
  bulkRoutes(app);
  app.notFound(() => {
    throw new EdgeError(404, "not_found", "no such endpoint", "See /v1/openapi.json for the endpoints.");
  });
  app.onError(errorResponse);
  return app;
}
