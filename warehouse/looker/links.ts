/**
 * Looker Studio Linking API URLs for the marts (docs/looker.md): one `reporting/create` URL per mart
 * with a BigQuery data source aliased by the mart's name, and one for the full report, from a
 * template whose data sources carry the same aliases. The marts are read from the Dataform project
 * (definitions/marts), so a new mart gets its link without a list to keep in step.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { PROJECT_DIR } from "../models/compile.js";

export const LINKING_API = "https://lookerstudio.google.com/reporting/create";
/** Environment variable naming the template report of the full report (its id, from its URL). */
export const TEMPLATE_ENV = "TIDELINE_LOOKER_TEMPLATE";
const MARTS_SCHEMA = "marts";

export interface Mart {
  table: string;
  type: "table" | "view" | "incremental";
}

/** Every model of definitions/marts whose config puts it in the marts schema. */
export function marts(): Mart[] {
  const dir = join(PROJECT_DIR, "definitions", MARTS_SCHEMA);
  return readdirSync(dir)
    .filter((f) => f.endsWith(".sqlx"))
    .sort()
    .flatMap((f) => {
      const config = /config\s*\{([\s\S]*?)\n\}/.exec(readFileSync(join(dir, f), "utf8"))?.[1] ?? "";
      const schema = /\bschema:\s*"([^"]+)"/.exec(config)?.[1];
      const type = /\btype:\s*"([^"]+)"/.exec(config)?.[1] as Mart["type"] | undefined;
      return schema === MARTS_SCHEMA && type ? [{ table: f.replace(/\.sqlx$/, ""), type }] : [];
    });
}

export interface LookerOptions {
  project: string;
  /** Prepended to every dataset name (prod_ → prod_marts), as the pipeline's --dataset_prefix. */
  datasetPrefix?: string;
  /** The template report's id; without one the full report starts blank with every mart's data source. */
  templateId?: string;
}

export interface LookerLinks {
  project: string;
  dataset: string;
  marts: { mart: string; alias: string; table: string; url: string }[];
  report: { templateId: string | null; url: string };
}

const PROJECT_ID = /^[a-z][a-z0-9-]{4,28}[a-z0-9]$/;
const PREFIX = /^[A-Za-z0-9_]{0,200}$/;
const TEMPLATE_ID = /^[A-Za-z0-9_-]{8,100}$/;

export class LookerArgumentError extends Error {
  override name = "LookerArgumentError";
}

export function validate(o: LookerOptions): void {
  if (!PROJECT_ID.test(o.project)) throw new LookerArgumentError(`--project must be a Google Cloud project id (6-30 lowercase letters, digits and hyphens, starting with a letter), not ${JSON.stringify(o.project)}`);
  if (o.datasetPrefix !== undefined && !PREFIX.test(o.datasetPrefix)) throw new LookerArgumentError(`--dataset-prefix may hold only letters, digits and underscores (BigQuery dataset names), not ${JSON.stringify(o.datasetPrefix)}`);
  if (o.templateId !== undefined && !TEMPLATE_ID.test(o.templateId)) {
    throw new LookerArgumentError(`the template id must be a Looker Studio report id (the part after /reporting/ in its URL), not ${JSON.stringify(o.templateId)}`);
  }
}

/** The Linking API parameters of one BigQuery table data source, under `alias`. */
function dataSource(alias: string, o: { project: string; dataset: string; table: string }): [string, string][] {
  const p = `ds.${alias}`;
  return [
    [`${p}.connector`, "bigQuery"],
    [`${p}.type`, "TABLE"],
    [`${p}.projectId`, o.project],
    [`${p}.datasetId`, o.dataset],
    [`${p}.tableId`, o.table],
    [`${p}.billingProjectId`, o.project],
    [`${p}.datasourceName`, `tideline ${o.dataset}.${o.table}`],
  ];
}

// Spaces as %20, not URLSearchParams' "+": the Linking API's documented examples encode that way.
const url = (params: [string, string][]) => `${LINKING_API}?${params.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join("&")}`;

export function lookerLinks(o: LookerOptions): LookerLinks {
  validate(o);
  const dataset = `${o.datasetPrefix ?? ""}${MARTS_SCHEMA}`;
  const all = marts();
  const links = all.map((m) => ({
    mart: `${MARTS_SCHEMA}.${m.table}`,
    alias: m.table,
    table: m.table,
    url: url([["r.reportName", `tideline ${m.table}`], ...dataSource(m.table, { project: o.project, dataset, table: m.table })]),
  }));
  const template: [string, string][] = o.templateId ? [["c.reportId", o.templateId]] : [];
  const report = url([...template, ["r.reportName", "tideline"], ...all.flatMap((m) => dataSource(m.table, { project: o.project, dataset, table: m.table }))]);
  return { project: o.project, dataset, marts: links, report: { templateId: o.templateId ?? null, url: report } };
}
