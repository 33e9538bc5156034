/** Liveness and the OpenAPI document generated from contracts/. */
import type { Hono } from "hono";
import openapi from "../../../contracts/generated/openapi.json";
import type { AppEnv } from "../types.js";

export function metaRoutes(app: Hono<AppEnv>) {
  app.get("/healthz", (c) => c.json({ status: "ok", environment: c.env.ENVIRONMENT }));
  app.get("/v1/openapi.json", (c) => c.json(openapi));
}
