/**
 * Writes the artefacts derived from the contracts into contracts/generated/:
 * openapi.json, bigquery/<dataset>.<table>.json, duckdb.sql, jsonschema/<Record>.json, jsonschema/Schedule.json,
 * pipeline.json (the limits and table keys the Beam pipeline in Python reads, so it writes neither twice)
 * and defaults.json (contracts/defaults.ts for Python); and, outside contracts/, infra/resources.json
 * (the resources Terraform reads) and the Dataform source declarations.
 * `--check` regenerates in memory and fails (exit 1) when a file on disk differs: run in `npm test`.
 */
import { mkdirSync, readFileSync, writeFileSync, readdirSync, existsSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { TABLES, tableId } from "./tables.js";
import { bigQueryTable } from "./generators/bigquery.js";
import { duckDbSchemaDdl } from "./generators/duckdb.js";
import { openApiDocument } from "./generators/openapi.js";
import { CdcRecord, DeadLetterRecord, EventRecord, QueueEnvelope, WebhookRecord } from "./records.js";
import * as limits from "./limits.js";
import { Schedule } from "./schedule.js";
import { defaultsDocument, resourcesDocument } from "./defaults.js";
import { dataformDeclarations } from "./generators/dataform.js";

const here = dirname(fileURLToPath(import.meta.url));
export const GENERATED_DIR = join(here, "generated");
const REPO_DIR = join(here, "..");

const pretty = (v: unknown) => JSON.stringify(v, null, 2) + "\n";

export function generatedFiles(): Map<string, string> {
  const files = new Map<string, string>();
  files.set("openapi.json", pretty(openApiDocument()));
  files.set("duckdb.sql", duckDbSchemaDdl(TABLES));
  for (const t of TABLES) files.set(`bigquery/${tableId(t)}.json`, pretty(bigQueryTable(t)));
  const records = { EventRecord, WebhookRecord, CdcRecord, DeadLetterRecord, QueueEnvelope };
  for (const [name, s] of Object.entries(records)) {
    files.set(`jsonschema/${name}.json`, pretty(z.toJSONSchema(s, { io: "output", unrepresentable: "any" })));
  }
  files.set("pipeline.json", pretty(pipelineSettings()));
  files.set("defaults.json", pretty(defaultsDocument()));
  // The DAGs' tests validate dags/schedule.json against it (Python reads the spec too).
  files.set("jsonschema/Schedule.json", pretty(z.toJSONSchema(Schedule, { io: "input" })));
  return files;
}

/** Files generated outside contracts/generated/, by path from the repository root. */
export function repoFiles(): Map<string, string> {
  return new Map([
    ["infra/resources.json", resourcesJson()],
    ["warehouse/dataform/definitions/sources/declarations.js", dataformDeclarations()],
  ]);
}

/** One resource per line, as the file was written by hand before it was generated (small diffs). */
function resourcesJson(): string {
  const line = (o: object) => `{ ${Object.entries(o).map(([k, v]) => `${JSON.stringify(k)}: ${JSON.stringify(v)}`).join(", ")} }`;
  const doc = resourcesDocument();
  const list = (items: object[]) => `[\n${items.map((i) => `    ${line(i)}`).join(",\n")}\n  ]`;
  const nested = (o: object) => pretty(o).trimEnd().replace(/\n/g, "\n  ");
  return [
    `{\n  "$comment": ${JSON.stringify(doc.$comment)}`,
    `  "messageAttributes": ${nested(doc.messageAttributes)}`,
    `  "topics": ${list(doc.topics)}`,
    `  "subscriptions": ${list(doc.subscriptions)}`,
    `  "deadLetter": ${line(doc.deadLetter)}`,
    `  "modelDatasets": ${nested(doc.modelDatasets)}`,
    `  "buckets": ${nested(doc.buckets)}\n}\n`,
  ].join(",\n");
}

/** Every numeric limit of limits.ts and each table's unique key, for the Beam pipeline (Python). */
function pipelineSettings() {
  return {
    // Sorted: a module namespace lists its exports in an order that differs between loaders.
    limits: Object.fromEntries(
      Object.entries(limits)
        .filter(([, v]) => typeof v === "number")
        .sort(([a], [b]) => a.localeCompare(b)),
    ),
    keys: Object.fromEntries(TABLES.map((t) => [tableId(t), t.key])),
  };
}

function listDisk(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .map((e) => relative(GENERATED_DIR, join(e.parentPath, e.name)));
}

function main() {
  const check = process.argv.includes("--check");
  const files = generatedFiles();
  const outside = repoFiles();
  const all = [...[...files].map(([name, content]) => ({ name: `contracts/generated/${name}`, path: join(GENERATED_DIR, name), content })), ...[...outside].map(([name, content]) => ({ name, path: join(REPO_DIR, name), content }))];
  if (check) {
    const stale: string[] = [];
    for (const { name, path, content } of all) {
      if (!existsSync(path) || readFileSync(path, "utf8") !== content) stale.push(name);
    }
    const extra = listDisk(GENERATED_DIR).filter((f) => !files.has(f)).map((f) => `contracts/generated/${f}`);
    if (stale.length || extra.length) {
      console.error(
        `generated files are out of date with contracts/:\n${[...stale.map((s) => `  differs: ${s}`), ...extra.map((e) => `  not generated any more: ${e}`)].join("\n")}\n` +
          "Run `npm run generate` and commit the result.",
      );
      process.exit(1);
    }
    console.log(`contracts: ${all.length} generated artefacts match the schemas`);
    return;
  }
  for (const { path, content } of all) {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, content);
  }
  console.log(`contracts: wrote ${files.size} files to contracts/generated/ and ${outside.size} elsewhere (${[...outside.keys()].join(", ")})`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main();
