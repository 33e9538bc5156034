/**
 * Request and response bodies of the operator API: the Zod schemas validate requests, type the
 * client and produce the OpenAPI document (GET /api/openapi.json).
 */
import { z } from "@hono/zod-openapi";
import { INPUT_STREAMS } from "../../contracts/records.js";
import { MAX_QUERY_BODY_BYTES, MAX_QUERY_ROWS } from "./limits.js";

export const ErrorBody = z
  .object({
    error: z.object({
      code: z.string().describe("Machine-readable reason, e.g. invalid_request, unauthorized, timeout."),
      message: z.string().describe("What went wrong."),
      hint: z.string().optional().describe("What to do about it."),
    }),
  })
  .openapi("Error");
export type ErrorBody = z.infer<typeof ErrorBody>;

export const QueryRequest = z
  .strictObject({
    sql: z
      .string()
      .max(MAX_QUERY_BODY_BYTES)
      .refine((s) => s.trim() !== "", "must be one SQL statement, not empty")
      .describe("One read-only statement in DuckDB's dialect (SELECT, WITH … SELECT, DESCRIBE, SHOW, SUMMARIZE)."),
    maxRows: z.number().int().min(1).max(MAX_QUERY_ROWS).optional().describe(`Return at most this many rows (default and ceiling ${MAX_QUERY_ROWS}).`),
  })
  .openapi("QueryRequest");
export type QueryRequest = z.infer<typeof QueryRequest>;

export const QueryResponse = z
  .object({
    columns: z.array(z.object({ name: z.string(), type: z.string().describe("DuckDB type") })),
    rows: z.array(z.record(z.string(), z.unknown())).describe("Row objects; 64-bit integers and decimals as JSON numbers when exact, else numeric strings."),
    truncated: z.boolean().describe("True when the query had more rows than were returned."),
    notice: z.string().optional(),
    warehouse: z.string().describe("Which warehouse answered (the DuckDB file)."),
  })
  .openapi("QueryResponse");
export type QueryResponse = z.infer<typeof QueryResponse>;

const BatchStats = z.object({
  messages: z.number(),
  duplicates: z.number(),
  loaded: z.number(),
  late: z.number(),
  deadLettered: z.number(),
  cdcIgnored: z.number(),
});

export const PipelineStatus = z
  .object({
    warehouse: z.string(),
    status: z
      .object({ batches: z.number(), failures: z.number(), totals: BatchStats, lastBatchAt: z.string().nullable(), lastError: z.string().nullable() })
      .nullable()
      .describe("The streaming pipeline's counters; null when it is not running."),
  })
  .openapi("PipelineStatus");
export type PipelineStatus = z.infer<typeof PipelineStatus>;

const UtcDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, "must be a UTC date, YYYY-MM-DD")
  .refine((d) => !Number.isNaN(Date.parse(`${d}T00:00:00Z`)) && new Date(`${d}T00:00:00Z`).toISOString().startsWith(d), "is not a calendar date");

export const BackfillRequest = z
  .strictObject({
    from: UtcDate.describe("First UTC date."),
    to: UtcDate.describe("Last UTC date (inclusive)."),
    streams: z.array(z.enum(INPUT_STREAMS)).min(1).optional().describe("Streams to replay (default events, webhooks, cdc)."),
  })
  .refine((r) => r.from <= r.to, { path: ["to"], message: "must not be before from" })
  .openapi("BackfillRequest");
export type BackfillRequest = z.infer<typeof BackfillRequest>;

export const BackfillProgress = z.object({ objectsDone: z.number(), objectsTotal: z.number(), stats: BatchStats });
export type BackfillProgress = z.infer<typeof BackfillProgress>;
export const BackfillResult = z.object({ objects: z.number(), stats: BatchStats });
export type BackfillResult = z.infer<typeof BackfillResult>;

/** One line of the NDJSON answer of POST /api/backfill. */
export const BackfillMessage = z
  .union([z.object({ progress: BackfillProgress }), z.object({ done: z.literal(true), result: BackfillResult }), ErrorBody])
  .openapi("BackfillMessage");
export type BackfillMessage = z.infer<typeof BackfillMessage>;

export const ReconcileRequest = z
  .strictObject({
    since: z.iso.datetime({ offset: true }).describe("Read archive objects written from this time on (their dt/hour partition)."),
  })
  .openapi("ReconcileRequest");
export type ReconcileRequest = z.infer<typeof ReconcileRequest>;

const StreamTally = z.object({ objects: z.number(), records: z.number(), missing: z.number() });
export const ReconcileResult = z
  .object({
    since: z.string(),
    objects: z.number().describe("Archive objects read."),
    records: z.number().describe("Records in them."),
    missing: z.number().describe("Records the warehouse lacked before the run."),
    replayedObjects: z.number().describe("Objects run through the pipeline because they held missing records."),
    stats: BatchStats,
    streams: z.record(z.string(), StreamTally),
  })
  .openapi("ReconcileResult");
export type ReconcileResult = z.infer<typeof ReconcileResult>;

export const ModelsRunRequest = z
  .strictObject({
    fullRefresh: z.boolean().optional().describe("Rebuild every incremental model from scratch."),
    select: z.string().min(1).max(1000).optional().describe("Only models with this tag or name (comma-separated), with their assertions."),
    exchangeRates: z.string().min(1).max(4096).optional().describe("Absolute path of an exchange-rates CSV to load instead of TIDELINE_EXCHANGE_RATES or the project's (warehouse/dataform/seeds/exchange_rates.csv)."),
  })
  .openapi("ModelsRunRequest");
export type ModelsRunRequest = z.infer<typeof ModelsRunRequest>;

const ModelResult = z.object({
  name: z.string(),
  kind: z.enum(["table", "incremental", "view", "assertion"]),
  mode: z.enum(["create", "incremental", "skipped", "check"]),
  seconds: z.number(),
  rows: z.number().nullable(),
});
const RunParam = z.union([
  z.object({ kind: z.literal("date"), value: z.string() }),
  z.object({ kind: z.literal("dates"), value: z.array(z.string()) }),
  z.object({ kind: z.literal("timestamp"), value: z.string() }),
]);
export const RunResult = z.object({
  results: z.array(ModelResult),
  warnings: z.array(z.object({ assertion: z.string(), rows: z.number() })),
  touchedDates: z.array(z.string()),
  params: z.record(z.string(), RunParam).describe("Run parameters bound into the models: what the incremental models rebuilt."),
  fullRefresh: z.boolean(),
  fullRefreshReason: z.string().nullable(),
  seconds: z.number(),
});

/** One line of the NDJSON answer of POST /api/models/run. */
export const ModelsRunMessage = z
  .union([
    z.object({ line: z.string().describe("A progress line as `tideline models run` prints it.") }),
    z.object({ done: z.literal(true), result: RunResult }),
    z.object({ error: z.object({ code: z.string().optional(), message: z.string(), hint: z.string().optional(), model: z.string().optional(), assertion: z.string().optional() }) }),
  ])
  .openapi("ModelsRunMessage");
export type ModelsRunMessage = z.infer<typeof ModelsRunMessage>;

export const Health = z.object({ ok: z.literal(true) }).openapi("Health");
