/**
 * Debezium change events, as Debezium Server's HTTP sink or a Kafka Connect bridge posts them:
 * with or without the `{schema, payload}` wrapper; a tombstone is `null` (or `{key, value: null}`).
 */
import { z } from "zod";

export const CDC_OPS = ["c", "u", "d", "r", "t"] as const;
export type CdcOp = (typeof CDC_OPS)[number];

/** Debezium `source` block. Connector-specific position fields are all optional. */
export const DebeziumSource = z.looseObject({
  version: z.string().optional(),
  connector: z.string().optional(),
  name: z.string().optional(),
  ts_ms: z.number().optional(),
  snapshot: z.union([z.string(), z.boolean()]).optional(),
  db: z.string().optional(),
  schema: z.string().optional(),
  table: z.string().optional(),
  collection: z.string().optional(),
  // PostgreSQL
  lsn: z.union([z.number(), z.string()]).nullish(),
  txId: z.union([z.number(), z.string()]).nullish(),
  sequence: z.string().nullish(),
  // MySQL / MariaDB
  file: z.string().nullish(),
  pos: z.number().nullish(),
  row: z.number().nullish(),
  gtid: z.string().nullish(),
  // SQL Server
  change_lsn: z.string().nullish(),
  commit_lsn: z.string().nullish(),
  event_serial_no: z.number().nullish(),
  // Oracle / Db2
  scn: z.union([z.string(), z.number()]).nullish(),
  // MongoDB
  ord: z.number().nullish(),
});

export const DebeziumPayload = z
  .looseObject({
    op: z.enum(CDC_OPS),
    before: z.record(z.string(), z.unknown()).nullish(),
    after: z.record(z.string(), z.unknown()).nullish(),
    source: DebeziumSource,
    ts_ms: z.number().optional(),
    ts_us: z.number().optional(),
    transaction: z.looseObject({ id: z.string().optional(), total_order: z.number().optional() }).nullish(),
  })
  .refine((p) => p.op === "t" || p.before != null || p.after != null, {
    message: "a change event needs `before` or `after` (only truncates have neither)",
  })
  .refine((p) => Boolean(p.source.table ?? p.source.collection) || p.op === "t", {
    message: "source.table (or source.collection) is required",
    path: ["source", "table"],
  });

/** The `{schema, payload}` wrapper of Debezium's JSON converter with schemas enabled. */
export const DebeziumWrapped = z.looseObject({ schema: z.unknown().optional(), payload: z.unknown() });
/** A Kafka-style record with an explicit key: `{key, value}`; `value: null` is a tombstone. */
export const DebeziumKeyed = z.looseObject({ key: z.unknown(), value: z.unknown() });

export type DebeziumPayloadT = z.output<typeof DebeziumPayload>;
