import type { Hono } from "hono";
import type { AppEnv } from "../types.js";
export function bulkRoutes(_app: Hono<AppEnv>) {}
