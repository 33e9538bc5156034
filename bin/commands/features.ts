/**
 * `npx tideline features training-set --label L --from D --to D --out F.parquet`: a point-in-time
 * correct training set from the local DuckDB warehouse (warehouse/features/training-set.ts,
 * docs/features.md); `--sql bigquery --project P` prints the same query in GoogleSQL instead.
 */
import { Command, Option } from "commander";
import { warehousePath } from "../../warehouse/duckdb/sink.js";
import { LABELS, TrainingSetError, trainingSetSql, writeTrainingSet } from "../../warehouse/features/training-set.js";

const USAGE = `usage: npx tideline features training-set --label <${Object.keys(LABELS).join("|")}> --from <YYYY-MM-DD> --to <YYYY-MM-DD> --out <file.parquet> [--json]
       npx tideline features training-set --label <label> --from <date> --to <date> --sql <duckdb|bigquery> [--project <gcp project>]`;

interface Opts {
  label: string;
  from: string;
  to: string;
  out?: string;
  warehouse?: string;
  sql?: "duckdb" | "bigquery";
  project?: string;
  json?: boolean;
}

export async function runTrainingSet(o: Opts, out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): Promise<number> {
  try {
    if (o.sql) {
      if (o.sql === "bigquery" && !o.project) throw new TrainingSetError("--sql bigquery needs --project, the project that holds the features dataset", "add --project <gcp project>", 2);
      out.write(trainingSetSql(o, o.sql, o.project) + "\n");
      return 0;
    }
    if (!o.out) throw new TrainingSetError("--out is required (or --sql to print the query)", "e.g. --out training.parquet", 2);
    const r = await writeTrainingSet({ label: o.label, from: o.from, to: o.to, out: o.out, warehouse: o.warehouse ?? warehousePath() });
    if (o.json) out.write(JSON.stringify(r) + "\n");
    else {
      out.write(`wrote ${r.rows} rows to ${r.out}\n`);
      err.write(
        `${r.windows} label windows with feature dates ${o.from}..${o.to}; ${r.dropped} left out because they had not fully elapsed by the data of the last models run (loaded through ${r.loadedThrough})\n`,
      );
    }
    return 0;
  } catch (e) {
    if (!(e instanceof TrainingSetError)) throw e;
    err.write(`tideline features training-set: ${e.message}\n  ${e.hint}\n${e.exitCode === 2 ? USAGE + "\n" : ""}`);
    return e.exitCode;
  }
}

export default function features(): Command {
  const cmd = new Command("features").description("ML features: point-in-time training sets (docs/features.md)");
  cmd
    .command("training-set")
    .description("a point-in-time correct training set: entity_id, feature_timestamp, the features, the label; only label windows that have fully elapsed")
    .requiredOption("--label <label>", `the label (${Object.keys(LABELS).join(", ")})`)
    .requiredOption("--from <date>", "first feature date (UTC)")
    .requiredOption("--to <date>", "last feature date (UTC)")
    .option("--out <file.parquet>", "the Parquet file to write")
    .option("--warehouse <path>", "DuckDB file (default: TIDELINE_WAREHOUSE or .data/warehouse.duckdb)")
    .addOption(new Option("--sql <dialect>", "print the query instead of running it").choices(["duckdb", "bigquery"]))
    .option("--project <id>", "with --sql bigquery: the project of the features dataset")
    .option("--json", "the summary as JSON")
    .showHelpAfterError(USAGE)
    .action(async (o: Opts) => {
      process.exitCode = await runTrainingSet(o);
    });
  return cmd;
}
