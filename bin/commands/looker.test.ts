/** `npx tideline looker`: the Linking API URLs parse and carry the project, dataset and table of every mart. */
import { describe, expect, it } from "vitest";
import { compileProject } from "../../warehouse/models/compile.js";
import { LINKING_API, marts } from "../../warehouse/looker/links.js";
import { runLooker } from "./looker.js";

function capture() {
  let text = "";
  return { s: { write: (c: string) => ((text += c), true) } as unknown as NodeJS.WritableStream, text: () => text };
}

interface Links {
  project: string;
  dataset: string;
  marts: { mart: string; alias: string; table: string; url: string }[];
  report: { templateId: string | null; url: string };
}

function json(args: Parameters<typeof runLooker>[0]): Links {
  const out = capture();
  expect(runLooker({ ...args, json: true }, out.s, capture().s)).toBe(0);
  return JSON.parse(out.text()) as Links;
}

/** The data sources of a Linking API URL: alias → {param: value}. */
function dataSources(u: URL): Map<string, Record<string, string>> {
  const out = new Map<string, Record<string, string>>();
  for (const [k, v] of u.searchParams) {
    const m = /^ds\.([A-Za-z0-9_]+)\.(\w+)$/.exec(k);
    if (!m) continue;
    out.set(m[1]!, { ...out.get(m[1]!), [m[2]!]: v });
  }
  return out;
}

describe("tideline looker", () => {
  it("knows every mart the Dataform project builds", async () => {
    const graph = await compileProject("bigquery", { defaultDatabase: "my-shop-prod" });
    const built = [...(graph.tables ?? [])].filter((t) => t.target.schema === "marts").map((t) => t.target.name).sort();
    expect(marts().map((m) => m.table)).toEqual(built);
    expect(built.length).toBeGreaterThanOrEqual(10);
  });

  it("gives one reporting/create URL per mart with a BigQuery data source aliased by the mart, and a full report with them all", () => {
    const links = json({ project: "my-shop-prod", datasetPrefix: "prod_" });
    expect(links.dataset).toBe("prod_marts");
    const names = marts().map((m) => m.table);
    expect(links.marts.map((m) => m.table)).toEqual(names);
    for (const m of links.marts) {
      const u = new URL(m.url);
      expect(`${u.origin}${u.pathname}`).toBe(LINKING_API);
      const ds = dataSources(u);
      expect([...ds.keys()]).toEqual([m.table]);
      expect(ds.get(m.table)).toMatchObject({ connector: "bigQuery", type: "TABLE", projectId: "my-shop-prod", datasetId: "prod_marts", tableId: m.table, billingProjectId: "my-shop-prod" });
      expect(u.searchParams.get("c.reportId")).toBeNull();
    }
    const full = new URL(links.report.url);
    const ds = dataSources(full);
    expect([...ds.keys()].sort()).toEqual([...names].sort());
    for (const n of names) expect(ds.get(n)).toMatchObject({ projectId: "my-shop-prod", datasetId: "prod_marts", tableId: n });
    expect(full.searchParams.get("c.reportId")).toBeNull();
  });

  it("puts the template id users set (flag or TIDELINE_LOOKER_TEMPLATE) on the full report; no prefix means the marts dataset", () => {
    const flag = json({ project: "my-shop-prod", templateId: "1a2b3c4d-5e6f-7a8b" });
    expect(flag.dataset).toBe("marts");
    expect(new URL(flag.report.url).searchParams.get("c.reportId")).toBe("1a2b3c4d-5e6f-7a8b");
    process.env.TIDELINE_LOOKER_TEMPLATE = "from-the-env-0001";
    try {
      expect(new URL(json({ project: "my-shop-prod" }).report.url).searchParams.get("c.reportId")).toBe("from-the-env-0001");
    } finally {
      delete process.env.TIDELINE_LOOKER_TEMPLATE;
    }
  });

  it("refuses a project, prefix or template id that cannot be one, with the usage and exit 2", () => {
    for (const bad of [{ project: "X" }, { project: "my-shop-prod", datasetPrefix: "prod-" }, { project: "my-shop-prod", templateId: "a&b=c" }]) {
      const out = capture();
      const err = capture();
      expect(runLooker(bad, out.s, err.s)).toBe(2);
      expect(out.text()).toBe("");
      expect(err.text()).toMatch(/must|may hold only/);
      expect(err.text()).toContain("usage: npx tideline looker");
    }
  });

  it("prints one line per mart and the full report as text", () => {
    const out = capture();
    expect(runLooker({ project: "my-shop-prod" }, out.s, capture().s)).toBe(0);
    for (const m of marts()) expect(out.text()).toMatch(new RegExp(`^marts\\.${m.table}\\s+https://lookerstudio\\.google\\.com/reporting/create\\?`, "m"));
    expect(out.text()).toContain("TIDELINE_LOOKER_TEMPLATE");
  });
});
