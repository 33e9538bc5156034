/** The compiled Dataform graph as runnable actions in dependency order, and the SQL each one issues. */
import type { CompiledAssertion, CompiledGraph, CompiledTable, Dialect, Target } from "./compile.js";
import { bindParams, type RunParams } from "./params.js";

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

/** Columns a model outputs, in its documented order (every model describes every column; a test checks it). */
export function modelColumns(t: CompiledTable): string[] {
  return (t.actionDescriptor?.columns ?? []).map((c) => c.path.join("."));
}

/**
 * The partitions an incremental build replaces, as a predicate over the target aliased `T`
 * (the model's `bigquery.updatePartitionFilter`, with run parameters bound).
 */
export function rebuildFilter(t: CompiledTable, dialect: Dialect, params: RunParams): string {
  const f = t.bigquery?.updatePartitionFilter;
  if (!f) throw new Error(`${targetName(t.target)} is incremental but has no bigquery.updatePartitionFilter; set one (over the target aliased T) so the runner knows which partitions the incremental query replaces`);
  return bindParams(f, dialect, params);
}

/**
 * Statements that build a table action. `create` replaces the whole table. `incremental` replaces
 * the partitions of the model's rebuild filter with the incremental query's rows and, for models with
 * a uniqueKey, also replaces rows elsewhere whose key the query returns: on BigQuery one MERGE
 * (atomic, columns by name); on DuckDB a DELETE and an INSERT BY NAME that the runner runs in one
 * transaction (DuckDB's MERGE joins the whole target without an equality condition for ON FALSE).
 */
export function tableStatements(t: CompiledTable, dialect: Dialect, mode: BuildMode, params: RunParams, database?: string): string[] {
  const target = quoteTarget(t.target, dialect, database);
  const conv = (s: string) => bindParams(dialect === "duckdb" ? toDuckDbSql(s) : s, dialect, params);
  const out = dialect === "bigquery" ? [] : [`CREATE SCHEMA IF NOT EXISTS "${t.target.schema}"`];
  out.push(...(t.preOps ?? []).map(conv));
  if (mode === "incremental" && t.type === "incremental") {
    const filter = rebuildFilter(t, dialect, params);
    const query = conv(t.incrementalQuery ?? t.query);
    const key = t.uniqueKey ?? [];
    const cols = modelColumns(t);
    if (dialect === "bigquery") {
      if (cols.length === 0) throw new Error(`${targetName(t.target)} describes no columns; the MERGE inserts by column name, so describe every column`);
      const on = key.length ? key.map((k) => `T.${k} = S.${k}`).join(" AND ") : "FALSE";
      const lines = [`MERGE INTO ${target} AS T`, `USING (${query}) AS S`, `ON ${on}`];
      if (key.length) lines.push(`WHEN MATCHED THEN UPDATE SET ${cols.filter((c) => !key.includes(c)).map((c) => `${c} = S.${c}`).join(", ")}`);
      lines.push(`WHEN NOT MATCHED BY SOURCE AND (${filter}) THEN DELETE`);
      lines.push(`WHEN NOT MATCHED THEN INSERT (${cols.join(", ")}) VALUES (${cols.map((c) => `S.${c}`).join(", ")})`);
      out.push(lines.join("\n"));
    } else {
      const byKey = key.length ? ` OR EXISTS (SELECT 1 FROM incremental_rows AS S WHERE ${key.map((k) => `S.${k} = T.${k}`).join(" AND ")})` : "";
      const order = t.bigquery?.partitionBy ? ` ORDER BY ${t.bigquery.partitionBy}` : "";
      out.push(`CREATE OR REPLACE TEMP TABLE incremental_rows AS (${query})`);
      out.push(`DELETE FROM ${target} AS T WHERE (${filter})${byKey}`);
      out.push(`INSERT INTO ${target} BY NAME (SELECT * FROM incremental_rows${order})`);
      out.push("DROP TABLE incremental_rows");
    }
  } else if (t.type === "view") {
    out.push(`CREATE OR REPLACE VIEW ${target} AS ${conv(t.query)}`);
  } else if (dialect === "bigquery") {
    const options = t.actionDescriptor?.description ? ` OPTIONS(description=${bqString(t.actionDescriptor.description)})` : "";
    const partition = t.bigquery?.partitionBy ? ` PARTITION BY ${t.bigquery.partitionBy}` : "";
    const cluster = t.bigquery?.clusterBy?.length ? ` CLUSTER BY ${t.bigquery.clusterBy.join(", ")}` : "";
    out.push(`CREATE OR REPLACE TABLE ${target}${partition}${cluster}${options} AS\n${conv(t.query)}`);
  } else if (t.bigquery?.partitionBy) {
    // DuckDB has no partitions; storing rows in partition order gives the same effect: date filters
    // skip row groups by their min/max, and partition replacements touch few row groups.
    out.push(`CREATE OR REPLACE TABLE ${target} AS SELECT * FROM (${conv(t.query)}) AS model_rows ORDER BY ${t.bigquery.partitionBy}`);
  } else {
    out.push(`CREATE OR REPLACE TABLE ${target} AS ${conv(t.query)}`);
  }
  out.push(...(t.postOps ?? []).map(conv));
  return out;
}

/**
 * A query returning the assertion's failing-row count. `scope`: the parent model was built
 * incrementally, so check only the partitions this run replaced (the rest were checked when they
 * were built).
 */
export function assertionCountSql(a: CompiledAssertion, dialect: Dialect, params: RunParams, scope?: { target: Target; filter: string }, database?: string): string {
  let q = bindParams(dialect === "duckdb" ? toDuckDbSql(a.query) : a.query, dialect, params);
  if (scope) {
    const ref = quoteTarget(scope.target, dialect, database);
    q = q.split(ref).join(`(SELECT * FROM ${ref} AS T WHERE ${scope.filter})`);
  }
  return `SELECT COUNT(*) AS failing_rows FROM (${q}) AS assertion_rows`;
}
