/**
 * `npx tideline looker --project P [--dataset-prefix X] [--template-id T] [--json]`: Looker Studio
 * Linking API URLs for the marts in BigQuery (warehouse/looker/links.ts, docs/looker.md).
 */
import { Command } from "commander";
import { LookerArgumentError, lookerLinks, TEMPLATE_ENV } from "../../warehouse/looker/links.js";

const USAGE = "usage: npx tideline looker --project <gcp project id> [--dataset-prefix <prefix, e.g. prod_>] [--template-id <report id>] [--json]";

export function runLooker(o: { project: string; datasetPrefix?: string; templateId?: string; json?: boolean }, out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): number {
  const templateId = o.templateId ?? (process.env[TEMPLATE_ENV] || undefined);
  try {
    const links = lookerLinks({ project: o.project, ...(o.datasetPrefix !== undefined ? { datasetPrefix: o.datasetPrefix } : {}), ...(templateId ? { templateId } : {}) });
    if (o.json) {
      out.write(JSON.stringify(links, null, 2) + "\n");
      return 0;
    }
    const width = Math.max(...links.marts.map((m) => m.mart.length));
    out.write(`Looker Studio reports on BigQuery ${links.project}.${links.dataset} (open a link, then "Edit and share" to save your copy):\n\n`);
    for (const m of links.marts) out.write(`${m.mart.padEnd(width)}  ${m.url}\n`);
    out.write(`\nfull report${links.report.templateId ? ` (template ${links.report.templateId})` : ""}:\n${links.report.url}\n`);
    if (!links.report.templateId) out.write(`\n(no template set: the full report starts blank with every mart's data source; set ${TEMPLATE_ENV} or --template-id to your template report, docs/looker.md)\n`);
    return 0;
  } catch (e) {
    if (!(e instanceof LookerArgumentError)) throw e;
    err.write(`tideline looker: ${e.message}\n${USAGE}\n`);
    return 2;
  }
}

export default function looker(): Command {
  return new Command("looker")
    .description("Looker Studio Linking API URLs for the marts in BigQuery: one report per mart, and the full report from a template")
    .requiredOption("--project <id>", "the Google Cloud project that holds the marts")
    .option("--dataset-prefix <prefix>", "prefix of the dataset names, as the pipeline's --dataset_prefix (prod_ → prod_marts)")
    .option("--template-id <id>", `the template report of the full report (default: ${TEMPLATE_ENV})`)
    .option("--json", "the URLs as JSON")
    .showHelpAfterError(USAGE)
    .action((o: { project: string; datasetPrefix?: string; templateId?: string; json?: boolean }) => {
      process.exitCode = runLooker(o);
    });
}
