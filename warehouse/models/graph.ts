/** The compiled Dataform graph as runnable actions in dependency order, and the SQL each one issues. */
import type { CompiledAssertion, CompiledGraph, CompiledTable, Dialect, Target } from "./compile.js";

export type Action =
  | { kind: "table"; name: string; table: CompiledTable; deps: string[]; tags: string[] }
  | { kind: "assertion"; name: string; assertion: CompiledAssertion; parent: string | null; deps: string[]; tags: string[] };

export const targetName = (t: Target) => `${t.schema}.${t.name}`;

/** Actions in topological order (ties broken by name, so runs are reproducible). */
export function plan(graph: CompiledGraph): Action[] {
  const actions = new Map<string, Action>();
  for (const t of graph.tables ?? []) {
    if (t.disabled) continue;
    const name = targetName(t.target);
    actions.set(name, { kind: "table", name, table: t, deps: (t.dependencyTargets ?? []).map(targetName), tags: t.tags ?? [] });
  }
  for (const a of graph.assertions ?? []) {
    if (a.disabled) continue;
    const name = targetName(a.target);
    const parent = a.parentAction ? targetName(a.parentAction) : null;
    const parentTags = parent ? (actions.get(parent)?.tags ?? []) : [];
    actions.set(name, { kind: "assertion", name, assertion: a, parent, deps: (a.dependencyTargets ?? []).map(targetName), tags: [...new Set([...(a.tags ?? []), ...parentTags])] });
  }
  const order: Action[] = [];
  const state = new Map<string, "visiting" | "done">();
  const visit = (name: string, path: string[]) => {
    const a = actions.get(name);
    if (!a || state.get(name) === "done") return; // declarations (sources) are not actions
    if (state.get(name) === "visiting") throw new Error(`dependency cycle in the Dataform graph: ${[...path, name].join(" → ")}`);
    state.set(name, "visiting");
    for (const d of [...a.deps].sort()) visit(d, [...path, name]);
    state.set(name, "done");
    order.push(a);
    // Assertions right after their model, so a failure names the model before anything reads it.
    if (a.kind === "table") for (const child of children.get(name) ?? []) if (!state.has(child)) visit(child, [...path, name]);
  };
  const children = new Map<string, string[]>();
  for (const a of actions.values()) {
    if (a.kind === "assertion" && a.parent) children.set(a.parent, [...(children.get(a.parent) ?? []), a.name].sort());
  }
  for (const name of [...actions.keys()].sort()) visit(name, []);
  return order;
}

/** Actions matching --select (a tag, a model name, or schema.name) plus the assertions of the selected models. */
export function select(actions: Action[], selector: string | undefined): Action[] {
  if (!selector) return actions;
  const wanted = selector.split(",").map((s) => s.trim()).filter(Boolean);
  const matches = (a: Action) => wanted.some((w) => a.tags.includes(w) || a.name === w || a.name.split(".")[1] === w);
  const chosen = new Set(actions.filter((a) => a.kind === "table" && matches(a)).map((a) => a.name));
  const out = actions.filter((a) => chosen.has(a.name) || (a.kind === "assertion" && ((a.parent && chosen.has(a.parent)) || matches(a))));
  if (out.length === 0) {
    const tags = [...new Set(actions.flatMap((a) => a.tags))].sort();
    throw new Error(`--select ${selector} matches no model; use a model name (e.g. sessions) or a tag (${tags.join(", ")})`);
  }
  return out;
}

/**
 * Dataform's generated BigQuery-isms to DuckDB: backtick-quoted `project.dataset.table` references
 * to schema.table, and backslash-escaped quotes (in assertion row-condition labels) to doubled ones.
 */
export function toDuckDbSql(sql: string): string {
  return sql
    .replace(/\\'/g, "''").replace(/`([^`.]+)\.([^`.]+)\.([^`.]+)`/g, '"$2"."$3"').replace(/`([^`.]+)\.([^`.]+)`/g, '"$1"."$2"');
}

export function quoteTarget(t: Target, dialect: Dialect, defaultDatabase?: string): string {
  return dialect === "bigquery" ? `\`${t.database ?? defaultDatabase}.${t.schema}.${t.name}\`` : `"${t.schema}"."${t.name}"`;
}

const bqString = (s: string) => `"""${s.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"""`;

export type BuildMode = "create" | "incremental";

/** Tag of incremental models whose rebuilt partitions are the touched dates only, not their neighbours. */
export const TOUCHED_ONLY_TAG = "touched-partitions";

/**
 * Statements that build a table action. `create` replaces the whole table; `incremental` deletes
 * the rebuild partitions and inserts the incremental query's rows (which cover exactly them).
 */
export function tableStatements(t: CompiledTable, dialect: Dialect, mode: BuildMode, rebuildTable: string): string[] {
  const target = quoteTarget(t.target, dialect);
  const conv = (s: string) => (dialect === "duckdb" ? toDuckDbSql(s) : s);
  // BigQuery datasets (staging, marts, features, assertions, ops) are created by infra/ Terraform with
  // their location and access; locally the schema is created here.
  const out = dialect === "bigquery" ? [] : [`CREATE SCHEMA IF NOT EXISTS "${t.target.schema}"`];
  out.push(...(t.preOps ?? []).map(conv));
  if (mode === "incremental" && t.type === "incremental" && t.uniqueKey?.length) {
    // Dataform's uniqueKey semantics: rows of the incremental query replace the rows with the same
    // key; other rows stay. For models where a change touches few keys across many partitions.
    const match = (src: string) => t.uniqueKey!.map((k) => `${src}.${k} = ${t.target.name}.${k}`).join(" AND ");
    if (dialect === "bigquery") {
      out.push(`DELETE FROM ${target} WHERE EXISTS (SELECT 1 FROM (${t.incrementalQuery}) AS incremental_rows WHERE ${match("incremental_rows")})`);
      out.push(`INSERT INTO ${target}\n${t.incrementalQuery}`);
    } else {
      out.push(`CREATE OR REPLACE TEMP TABLE incremental_rows AS (${conv(t.incrementalQuery ?? t.query)})`);
      out.push(`DELETE FROM ${target} WHERE EXISTS (SELECT 1 FROM incremental_rows WHERE ${match("incremental_rows")})`);
      out.push(`INSERT INTO ${target} BY NAME (SELECT * FROM incremental_rows)`);
      if (t.bigquery?.partitionBy) out.push(`CREATE OR REPLACE TEMP TABLE ${rebuiltTable(t.target)} AS SELECT DISTINCT ${t.bigquery.partitionBy} AS partition_date FROM incremental_rows`);
      out.push("DROP TABLE incremental_rows");
    }
  } else if (mode === "incremental" && t.type === "incremental") {
    const col = t.bigquery?.partitionBy;
    if (!col) throw new Error(`${targetName(t.target)} is incremental but has no bigquery.partitionBy; set one so the runner knows which partitions to replace`);
    // Replace the rebuild dates (only the touched ones for models tagged touched-partitions) and every
    // partition the incremental query produces rows for (a point-in-time model rebuilds all dates
    // after the earliest touched one, not only those).
    const dates = `SELECT partition_date FROM ${rebuildTable} WHERE ${(t.tags ?? []).includes(TOUCHED_ONLY_TAG) ? "touched" : "rebuild"}`;
    if (dialect === "bigquery") {
      out.push(`DELETE FROM ${target} WHERE ${col} IN (${dates}) OR ${col} IN (SELECT DISTINCT ${col} FROM (${t.incrementalQuery}) AS incremental_rows)`);
      out.push(`INSERT INTO ${target}\n${t.incrementalQuery}`);
    } else {
      out.push(`CREATE OR REPLACE TEMP TABLE incremental_rows AS (${conv(t.incrementalQuery ?? t.query)})`);
      out.push(`DELETE FROM ${target} WHERE ${col} IN (${dates}) OR ${col} IN (SELECT DISTINCT ${col} FROM incremental_rows)`);
      out.push(`INSERT INTO ${target} BY NAME (SELECT * FROM incremental_rows)`);
      out.push(`CREATE OR REPLACE TEMP TABLE ${rebuiltTable(t.target)} AS SELECT DISTINCT ${col} AS partition_date FROM incremental_rows UNION ${dates}`);
      out.push("DROP TABLE incremental_rows");
    }
  } else if (t.type === "view") {
    out.push(`CREATE OR REPLACE VIEW ${target} AS ${conv(t.query)}`);
  } else if (dialect === "bigquery") {
    const options = t.actionDescriptor?.description ? ` OPTIONS(description=${bqString(t.actionDescriptor.description)})` : "";
    const partition = t.bigquery?.partitionBy ? ` PARTITION BY ${t.bigquery.partitionBy}` : "";
    const cluster = t.bigquery?.clusterBy?.length ? ` CLUSTER BY ${t.bigquery.clusterBy.join(", ")}` : "";
    out.push(`CREATE OR REPLACE TABLE ${target}${partition}${cluster}${options} AS\n${t.query}`);
  } else if (t.type === "incremental" && t.bigquery?.partitionBy) {
    // DuckDB has no partitions; storing rows in partition order gives the same effect: date filters
    // skip row groups by their min/max, and partition replacements touch few row groups.
    out.push(`CREATE OR REPLACE TABLE ${target} AS SELECT * FROM (${conv(t.query)}) AS model_rows ORDER BY ${t.bigquery.partitionBy}`);
  } else {
    out.push(`CREATE OR REPLACE TABLE ${target} AS ${conv(t.query)}`);
  }
  out.push(...(t.postOps ?? []).map(conv));
  return out;
}

/** DuckDB temp table listing the partitions an incremental build replaced (for scoping its assertions). */
export const rebuiltTable = (t: Target) => `"rebuilt__${t.schema}__${t.name}"`;

/**
 * A query returning the assertion's failing-row count. `scope`: the parent model was built
 * incrementally on DuckDB, so check only the partitions this run replaced (the rest were checked
 * when they were built); on BigQuery and after full builds assertions see the whole table.
 */
export function assertionCountSql(a: CompiledAssertion, dialect: Dialect, scope?: { target: Target; partitionBy: string }): string {
  let q = dialect === "duckdb" ? toDuckDbSql(a.query) : a.query;
  if (scope && dialect === "duckdb") {
    const ref = `"${scope.target.schema}"."${scope.target.name}"`;
    q = q.split(ref).join(`(SELECT * FROM ${ref} WHERE ${scope.partitionBy} IN (SELECT partition_date FROM ${rebuiltTable(scope.target)}))`);
  }
  return `SELECT COUNT(*) AS failing_rows FROM (${q}) AS assertion_rows`;
}
