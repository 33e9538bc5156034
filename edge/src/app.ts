/** The edge application: middleware shared by every route, the routes, one error path. */
import { Hono } from "hono";
import { cors } from "hono/cors";
import { requestId } from "hono/request-id";
import { EdgeError, errorResponse } from "./errors.js";
import { metaRoutes } from "./routes/meta.js";
import { segmentRoutes } from "./routes/segment.js";
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
  // Browsers post beacons cross-origin; credentials (Basic write key) are allowed from any site.
  app.use(
    "/v1/*",
    cors({
      origin: (origin) => origin || "*",
      allowMethods: ["POST", "GET", "OPTIONS"],
      allowHeaders: ["Content-Type", "Authorization", "Content-Encoding", "X-Request-Id"],
      exposeHeaders: ["X-Request-Id", "Retry-After"],
      credentials: true,
      maxAge: 86400,
    }),
  );
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
