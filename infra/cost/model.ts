/**
 * Monthly cost of running tideline in production for a number of events per day, per component,
 * for the two ways of running the pipeline: streaming on Dataflow (what infra/terraform deploys)
 * and micro-batch runs started by Composer. Prices come from prices.json (dated, with sources);
 * every other number is an assumption the caller can change (CostAssumptions). The formulas follow
 * what the code does: one queue message per request, one archive object per queue batch, one
 * dedup statement per table and write batch (docs/pipeline.md), partitions by event date.
 */
import prices from "./prices.json" with { type: "json" };
import { DEDUP_DATE_SLACK_DAYS } from "../../contracts/limits.js";

export const PRICES = prices;
const DAYS_PER_MONTH = 30.4;
const HOURS_PER_MONTH = 730;
const GiB = 1024 ** 3;
const TiB = 1024 ** 4;

export interface CostAssumptions {
  /** Size of one enriched record on Pub/Sub and in BigQuery (logical bytes). */
  eventBytes: number;
  /** Events per HTTP request (browser beacons send one; server libraries batch). */
  eventsPerRequest: number;
  /** Worker CPU per request at the edge, in ms. */
  cpuMsPerRequest: number;
  /** gzip ratio of the archive's NDJSON. */
  archiveCompression: number;
  /** Months of data already archived and in BigQuery (the month priced is the next one). */
  monthsOfHistory: number;
  /** Analyst and dashboard queries per day and what each scans. */
  queriesPerDay: number;
  bytesPerQuery: number;
  /** Incremental model runs per day (tideline_models: every 15 min) and the share of a day's raw bytes each reads. */
  modelRunsPerDay: number;
  modelScanShare: number;
  /** Events one n2-standard-2 worker parses, dedups and writes per second. */
  eventsPerWorkerSecond: number;
  /** Peak over average traffic, for sizing streaming workers. */
  peakFactor: number;
  minWorkers: number;
  /** Streaming: rows per write statement and longest wait (the pipeline's --max_rows_per_write, --flush_interval_s). */
  rowsPerWrite: number;
  flushIntervalSeconds: number;
  /** Micro-batch: minutes between runs and the billed start-up of each run's worker. */
  microBatchIntervalMinutes: number;
  workerStartupMinutes: number;
  composerSize: keyof typeof prices.composer.monthlyBySize;
}

export const DEFAULT_ASSUMPTIONS: CostAssumptions = {
  eventBytes: 1200,
  eventsPerRequest: 1,
  cpuMsPerRequest: 2,
  archiveCompression: 0.12,
  monthsOfHistory: 12,
  queriesPerDay: 500,
  bytesPerQuery: 2 * GiB,
  modelRunsPerDay: 96,
  modelScanShare: 0.25,
  eventsPerWorkerSecond: 2500,
  peakFactor: 2,
  minWorkers: 1,
  rowsPerWrite: 10_000,
  flushIntervalSeconds: 5,
  microBatchIntervalMinutes: 15,
  workerStartupMinutes: 4,
  composerSize: "ENVIRONMENT_SIZE_SMALL",
};

export interface Line {
  component: string;
  streaming: number;
  microBatch: number;
  /** How the figure was reached, in a few words. */
  basis: string;
}

export interface CostEstimate {
  eventsPerDay: number;
  pricesCompiled: string;
  assumptions: CostAssumptions;
  lines: Line[];
  total: { streaming: number; microBatch: number };
  latency: { streaming: string; microBatch: string };
  /** The same workload with the Storage Write API instead of per-batch dedup statements. */
  storageWriteApiAlternative: { writesMonthly: number; note: string };
  notes: string[];
}

const round = (x: number) => Math.round(x * 100) / 100;
const overIncluded = (used: number, included: number, perMillion: number) => (Math.max(0, used - included) / 1e6) * perMillion;

/** Archive storage by class in the month after `months` of history, following the lifecycle (30/90/365 days). */
export function archiveGiBByClass(monthlyGiB: number, months: number): Record<"STANDARD" | "NEARLINE" | "COLDLINE" | "ARCHIVE", number> {
  const ageDays = (m: number) => m * DAYS_PER_MONTH;
  const out = { STANDARD: 0, NEARLINE: 0, COLDLINE: 0, ARCHIVE: 0 };
  // Month i of the history is i months old (0 = the month being written).
  for (let i = 0; i <= months; i++) {
    const age = ageDays(i);
    const cls = age < 30 ? "STANDARD" : age < 90 ? "NEARLINE" : age < 365 ? "COLDLINE" : "ARCHIVE";
    out[cls] += monthlyGiB;
  }
  return out;
}

export function estimate(eventsPerDay: number, overrides: Partial<CostAssumptions> = {}): CostEstimate {
  if (!(eventsPerDay > 0) || !Number.isFinite(eventsPerDay)) throw new RangeError("events per day must be a positive number");
  const a = { ...DEFAULT_ASSUMPTIONS, ...overrides };
  const p = prices;
  const lines: Line[] = [];
  const monthlyEvents = eventsPerDay * DAYS_PER_MONTH;
  const eventsPerSecond = eventsPerDay / 86_400;

  // Edge: the same in both modes.
  const requests = monthlyEvents / a.eventsPerRequest;
  const workers = p.cloudflareWorkers.paidPlanMonthly + overIncluded(requests, p.cloudflareWorkers.includedRequests, p.cloudflareWorkers.perMillionRequests) + overIncluded(requests * a.cpuMsPerRequest, p.cloudflareWorkers.includedCpuMs, p.cloudflareWorkers.perMillionCpuMs);
  lines.push({ component: "Cloudflare Workers", streaming: workers, microBatch: workers, basis: `${fmtCount(requests)} requests/month, ${a.cpuMsPerRequest} ms CPU each` });
  const messageChunks = Math.max(1, Math.ceil((a.eventsPerRequest * a.eventBytes) / p.cloudflareQueues.operationBytes));
  const queueOps = requests * messageChunks * p.cloudflareQueues.operationsPerMessage;
  const queues = overIncluded(queueOps, p.cloudflareQueues.includedOperations, p.cloudflareQueues.perMillionOperations);
  lines.push({ component: "Cloudflare Queues", streaming: queues, microBatch: queues, basis: `one message per request: write, read, delete = ${fmtCount(queueOps)} operations/month` });

  // Pub/Sub carries the stream in both modes (the micro-batch reads the archive, but the edge still
  // publishes and Airflow's landing sensor subscribes), so only the pipeline's delivery differs.
  const recordBytes = monthlyEvents * a.eventBytes;
  const pubsubCost = (bytes: number) => (Math.max(0, bytes - p.pubsub.freeGiBPerMonth * GiB) / TiB) * p.pubsub.perTiBThroughput;
  lines.push({ component: "Pub/Sub", streaming: pubsubCost(recordBytes * 2), microBatch: pubsubCost(recordBytes), basis: "publish, plus delivery to the streaming pipeline's subscription" });

  // Archive: one gzip object per queue batch of ≤100 messages (at least one per 2 s batch timeout when traffic is low).
  const monthlyGiB = (recordBytes * a.archiveCompression) / GiB;
  const byClass = archiveGiBByClass(monthlyGiB, a.monthsOfHistory);
  const storage = Object.entries(byClass).reduce((s, [cls, gib]) => s + gib * p.cloudStorage.perGiBMonth[cls as keyof typeof byClass], 0);
  const messagesPerDay = eventsPerDay / a.eventsPerRequest;
  const objectsPerMonth = Math.max(messagesPerDay / 100, Math.min(messagesPerDay, 86_400 / 2)) * DAYS_PER_MONTH;
  const classA = objectsPerMonth * ((p.cloudStorage.classAPer1000.STANDARD + p.cloudStorage.classAPer1000.NEARLINE + p.cloudStorage.classAPer1000.COLDLINE + (a.monthsOfHistory >= 12 ? p.cloudStorage.classAPer1000.ARCHIVE : 0)) / 1000);
  const gcs = storage + classA;
  lines.push({
    component: "Cloud Storage (raw archive)",
    streaming: gcs,
    microBatch: gcs,
    basis: `${fmtGiB(monthlyGiB)}/month gzip; after ${a.monthsOfHistory} months: ${Object.entries(byClass).filter(([, g]) => g > 0).map(([c, g]) => `${c.toLowerCase()} ${fmtGiB(g)}`).join(", ")}; ${fmtCount(objectsPerMonth)} objects/month written and moved through the classes`,
  });

  // Dataflow. Streaming: workers sized for the peak, always on. Micro-batch: the same processing at
  // batch rates, plus each run's start-up, plus shuffle.
  const w = p.dataflow.worker;
  const sw = p.dataflow.streaming;
  const workersStreaming = Math.max(a.minWorkers, Math.ceil((eventsPerSecond * a.peakFactor) / a.eventsPerWorkerSecond));
  const perWorkerHourStreaming = w.vcpus * sw.perVcpuHour + w.memoryGiB * sw.perGiBMemoryHour + sw.pdGiBPerWorker * sw.perGiBPdHour;
  const dfStreaming = workersStreaming * HOURS_PER_MONTH * perWorkerHourStreaming + (recordBytes / GiB) * sw.streamingEnginePerGiBProcessed;
  const bw = p.dataflow.batch;
  const runsPerDay = (24 * 60) / a.microBatchIntervalMinutes;
  const perWorkerHourBatch = w.vcpus * bw.perVcpuHour + w.memoryGiB * bw.perGiBMemoryHour + bw.pdGiBPerWorker * bw.perGiBPdHour;
  const processingHours = monthlyEvents / (a.eventsPerWorkerSecond * 3600);
  const startupHours = runsPerDay * DAYS_PER_MONTH * (a.workerStartupMinutes / 60);
  const dfBatch = (processingHours + startupHours) * perWorkerHourBatch + (recordBytes / GiB) * bw.shufflePerGiB;
  lines.push({
    component: "Dataflow",
    streaming: dfStreaming,
    microBatch: dfBatch,
    basis: `streaming: ${workersStreaming} × ${w.machineType} always on + Streaming Engine; micro-batch: ${fmtCount(runsPerDay)} runs/day, ${a.workerStartupMinutes} min start-up each + ${Math.round(processingHours)} worker-hours + shuffle`,
  });

  // BigQuery writes: load jobs are free; each write batch's dedup statement scans the key column of
  // the batch's event dates ± DEDUP_DATE_SLACK_DAYS (on average today and yesterday: 2 days).
  const keyBytes = 40;
  const windowDays = 1 + DEDUP_DATE_SLACK_DAYS;
  const scanPerStatement = Math.max(p.bigquery.minimumBytesPerTableScanned, eventsPerDay * windowDays * keyBytes);
  const statementsStreaming = Math.max(86_400 / a.flushIntervalSeconds, eventsPerDay / a.rowsPerWrite) * DAYS_PER_MONTH;
  const statementsBatch = runsPerDay * DAYS_PER_MONTH;
  const onDemand = (bytes: number) => (bytes / TiB) * p.bigquery.onDemandPerTiB;
  lines.push({
    component: "BigQuery writes (dedup statements)",
    streaming: onDemand(statementsStreaming * scanPerStatement),
    microBatch: onDemand(statementsBatch * scanPerStatement),
    basis: `${fmtCount(statementsStreaming)} vs ${fmtCount(statementsBatch)} statements/month, each scanning ${fmtGiB(scanPerStatement / GiB)} of event_id`,
  });

  const activeMonths = Math.min(a.monthsOfHistory + 1, 3);
  const longTermMonths = Math.max(0, a.monthsOfHistory + 1 - 3);
  const bqStorage = (recordBytes / GiB) * (activeMonths * p.bigquery.activeStoragePerGiBMonth + longTermMonths * p.bigquery.longTermStoragePerGiBMonth);
  lines.push({ component: "BigQuery storage", streaming: bqStorage, microBatch: bqStorage, basis: `${fmtGiB(recordBytes / GiB)}/month logical; ${activeMonths} months active, ${longTermMonths} long-term` });

  const queryBytes = a.queriesPerDay * DAYS_PER_MONTH * a.bytesPerQuery + a.modelRunsPerDay * DAYS_PER_MONTH * eventsPerDay * a.eventBytes * a.modelScanShare;
  const queries = Math.max(0, onDemand(queryBytes) - p.bigquery.freeQueryTiBPerMonth * p.bigquery.onDemandPerTiB);
  lines.push({ component: "BigQuery queries (analysts + models)", streaming: queries, microBatch: queries, basis: `${a.queriesPerDay} queries/day × ${fmtGiB(a.bytesPerQuery / GiB)} + ${a.modelRunsPerDay} model runs/day, on demand` });

  const composer = p.composer.monthlyBySize[a.composerSize];
  lines.push({ component: "Composer 3", streaming: composer, microBatch: composer, basis: `${a.composerSize.replace("ENVIRONMENT_SIZE_", "").toLowerCase()} environment (runs the models, quality and maintenance DAGs in both modes)` });

  const swBytes = recordBytes;
  const swCost = (Math.max(0, swBytes - p.bigquery.storageWriteApiFreeTiBPerMonth * TiB) / GiB) * p.bigquery.storageWriteApiPerGiB;
  for (const l of lines) {
    l.streaming = round(l.streaming);
    l.microBatch = round(l.microBatch);
  }
  const total = { streaming: round(lines.reduce((s, l) => s + l.streaming, 0)), microBatch: round(lines.reduce((s, l) => s + l.microBatch, 0)) };
  return {
    eventsPerDay,
    pricesCompiled: p.compiled,
    assumptions: a,
    lines,
    total,
    latency: {
      streaming: `seconds to raw tables (Pub/Sub, then a write at least every ${a.flushIntervalSeconds} s); marts every ${Math.round(1440 / a.modelRunsPerDay)} min`,
      microBatch: `${a.microBatchIntervalMinutes} min between runs + ${a.workerStartupMinutes} min start-up + processing: up to ~${a.microBatchIntervalMinutes + a.workerStartupMinutes + 2} min to raw tables; marts after the next model run`,
    },
    storageWriteApiAlternative: {
      writesMonthly: round(swCost),
      note: "writing raw rows through the Storage Write API instead (no per-batch dedup scan; duplicates removed in the models instead)",
    },
    notes: [
      `Prices: list prices of ${p.compiled} (infra/cost/prices.json, with sources); no committed-use or Editions discounts.`,
      "Not included: network egress, Cloud KMS key operations, Artifact Registry, logging and monitoring, Cloud Storage retrieval for backfills, Workers KV for webhook dedup.",
    ],
  };
}

function fmtCount(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(n >= 1e10 ? 0 : 1)}B`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(n >= 1e7 ? 0 : 1)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(n >= 1e4 ? 0 : 1)}k`;
  return String(Math.round(n));
}

function fmtGiB(g: number): string {
  if (g >= 1024) return `${(g / 1024).toFixed(1)} TiB`;
  if (g >= 1) return `${g.toFixed(g >= 100 ? 0 : 1)} GiB`;
  return `${Math.round(g * 1024)} MiB`;
}

export const usd = (x: number) => `$${x.toLocaleString("en-US", { minimumFractionDigits: x < 100 ? 2 : 0, maximumFractionDigits: x < 100 ? 2 : 0 })}`;

export function formatEstimate(e: CostEstimate): string {
  const rows = e.lines.map((l) => [l.component, usd(l.streaming), usd(l.microBatch), l.basis]);
  rows.push(["total per month", usd(e.total.streaming), usd(e.total.microBatch), ""]);
  const head = ["component", "streaming", `micro-batch (${e.assumptions.microBatchIntervalMinutes} min)`, "basis"];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const fmt = (r: string[]) => r.map((c, i) => (i === 1 || i === 2 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join("  ").trimEnd();
  return [
    `tideline monthly cost for ${e.eventsPerDay.toLocaleString("en-US")} events/day (USD, list prices of ${e.pricesCompiled})`,
    "",
    fmt(head),
    ...rows.map(fmt),
    "",
    `latency  streaming: ${e.latency.streaming}`,
    `         micro-batch: ${e.latency.microBatch}`,
    `BigQuery writes through the Storage Write API instead: ${usd(e.storageWriteApiAlternative.writesMonthly)}/month (${e.storageWriteApiAlternative.note})`,
    ...e.notes,
  ].join("\n");
}

/** The docs/cost.md table for a few volumes (kept equal to this model by a test). */
export function costMarkdown(volumes: number[] = [1e6, 1e7, 1e8, 1e9]): string {
  const es = volumes.map((v) => estimate(v));
  const label = (v: number) => (v >= 1e9 ? `${v / 1e9}B` : `${v / 1e6}M`);
  const out = [`| component | ${volumes.map((v) => `${label(v)}/day streaming | ${label(v)}/day micro-batch`).join(" | ")} |`, `|---|${volumes.map(() => "---:|---:").join("|")}|`];
  for (let i = 0; i < es[0]!.lines.length; i++) {
    out.push(`| ${es[0]!.lines[i]!.component} | ${es.map((e) => `${usd(e.lines[i]!.streaming)} | ${usd(e.lines[i]!.microBatch)}`).join(" | ")} |`);
  }
  out.push(`| **total per month** | ${es.map((e) => `**${usd(e.total.streaming)}** | **${usd(e.total.microBatch)}**`).join(" | ")} |`);
  out.push(`| BigQuery writes via Storage Write API instead | ${es.map((e) => `${usd(e.storageWriteApiAlternative.writesMonthly)} | –`).join(" | ")} |`);
  return out.join("\n");
}
