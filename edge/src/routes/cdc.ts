import type { Hono } from "hono";
import type { AppEnv } from "../types.js";
export function cdcRoutes(_app: Hono<AppEnv>) {}
