/**
 * The orchestration schedule (dags/schedule.json): one spec for the Composer DAGs (Python reads the
 * same file; its tests validate it against the JSON Schema generated from this one) and for the
 * local platform's in-process models schedule. Durations in seconds, rates as fractions.
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";

export const DAG_IDS = ["tideline_models", "tideline_landing", "tideline_backfill", "tideline_quality", "tideline_maintenance"] as const;
export type DagId = (typeof DAG_IDS)[number];

export const SCHEDULE_PATH = join(dirname(fileURLToPath(import.meta.url)), "../dags/schedule.json");

const seconds = z.number().int().positive();
const rate = z.number().min(0).max(1);
// Five fields (minute hour day month weekday): what both Airflow's croniter and the local schedule accept.
const cron = z.string().regex(/^\S+(\s+\S+){4}$/, "a five-field cron expression, e.g. */15 * * * *");
const tableName = z.string().regex(/^[a-z_]+\.[a-z_]+$/, "dataset.table, e.g. raw.events");

const Trigger = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("cron"), cron }).strict(),
  z.object({ kind: z.literal("pubsub"), topic: z.string().min(1), subscription: z.string().min(1) }).strict(),
  z.object({ kind: z.literal("manual") }).strict(),
]);

const DagCommon = {
  description: z.string().min(1),
  trigger: Trigger,
  owner: z.string().min(1).optional(),
  retries: z.number().int().min(0),
  retryDelaySeconds: seconds,
  /** Each task's execution_timeout. */
  taskTimeoutSeconds: seconds,
  /** The DAG run's dagrun_timeout. */
  runTimeoutSeconds: seconds,
  slaSeconds: seconds.optional(),
  maxActiveRuns: z.number().int().positive(),
  tags: z.array(z.string().min(1)).min(1),
};

export const Slos = z
  .object({
    windowHours: seconds,
    rawLagSeconds: seconds,
    martsLagSeconds: seconds,
    deadLetterRate: rate,
    duplicateRate: rate,
    lateRate: rate,
  })
  .strict();

export const Maintenance = z
  .object({
    deadLetterReplayDays: seconds,
    partitionExpiryDays: z.record(tableName, seconds),
    archiveLifecycle: z.array(z.object({ ageDays: seconds, storageClass: z.enum(["NEARLINE", "COLDLINE", "ARCHIVE"]) }).strict()).min(1),
    streamingJobName: z.string().min(1),
    streamingLagBudgetSeconds: seconds,
  })
  .strict();

export const Schedule = z
  .object({
    $comment: z.string().optional(),
    version: z.literal(1),
    defaults: z
      .object({
        owner: z.string().min(1),
        retries: z.number().int().min(0),
        retryDelaySeconds: seconds,
        startDate: z.iso.date(),
        timezone: z.literal("UTC"),
        gcpConnectionId: z.string().min(1),
      })
      .strict(),
    dags: z
      .object({
        tideline_models: z
          .object({
            ...DagCommon,
            /** Seconds between in-process runs of `npm start` (TIDELINE_MODELS_INTERVAL overrides). */
            localIntervalSeconds: seconds,
            fullRefreshCron: cron,
          })
          .strict(),
        tideline_landing: z.object(DagCommon).strict(),
        tideline_backfill: z.object(DagCommon).strict(),
        tideline_quality: z.object({ ...DagCommon, slos: Slos }).strict(),
        tideline_maintenance: z.object({ ...DagCommon, maintenance: Maintenance }).strict(),
      })
      .strict(),
  })
  .strict();
export type Schedule = z.infer<typeof Schedule>;

export class ScheduleError extends Error {
  override name = "ScheduleError";
}

/** Reads and validates dags/schedule.json (or `path`); the error names each wrong field. */
export function loadSchedule(path = SCHEDULE_PATH): Schedule {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new ScheduleError(`could not read the schedule spec ${path}: ${(e as Error).message}`);
  }
  const parsed = Schedule.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `  ${i.path.join(".") || "(top)"}: ${i.message}`).join("\n");
    throw new ScheduleError(`the schedule spec ${path} is invalid:\n${issues}\nFix the file (its schema: contracts/schedule.ts).`);
  }
  return parsed.data;
}
