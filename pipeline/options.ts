/** Pipeline settings from the environment, with the defaults of contracts/limits.ts. */
import { DEFAULT_ALLOWED_LATENESS_DAYS } from "../contracts/limits.js";
import type { BatchOptions } from "./transforms/batch.js";
import { DEFAULT_OUT_OF_ORDERNESS_MS } from "./transforms/event-time.js";
import { landingBucket, LOCAL_PORTS, LOCAL_PROJECT, LOCALHOST, rawBucket } from "../contracts/defaults.js";

const DAY_MS = 86_400_000;

function numberEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name}=${raw} is not a non-negative number; unset it to use the default ${fallback}`);
  return n;
}

export function batchOptionsFromEnv(): BatchOptions {
  return {
    outOfOrdernessMs: numberEnv("TIDELINE_OUT_OF_ORDERNESS_MS", DEFAULT_OUT_OF_ORDERNESS_MS),
    allowedLatenessMs: numberEnv("TIDELINE_ALLOWED_LATENESS_DAYS", DEFAULT_ALLOWED_LATENESS_DAYS) * DAY_MS,
  };
}

export const DEFAULT_STORAGE_EMULATOR_HOST = `http://${LOCALHOST}:${LOCAL_PORTS.gcs.port}`;
/** The project's archive bucket (tideline-local-raw locally). */
export const RAW_BUCKET = process.env.TIDELINE_RAW_BUCKET ?? rawBucket(process.env.TIDELINE_PROJECT ?? LOCAL_PROJECT);

/** The landing bucket of bulk uploads (tideline-local-landing locally). */
export const LANDING_BUCKET = process.env.TIDELINE_LANDING_BUCKET ?? landingBucket(process.env.TIDELINE_PROJECT ?? LOCAL_PROJECT);
