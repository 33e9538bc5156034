import type { Hono } from "hono";
import type { AppEnv } from "../types.js";
export function webhookRoutes(_app: Hono<AppEnv>) {}
