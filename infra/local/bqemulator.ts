/**
 * Starts bqemulator (PyPI; `.venv/bqemulator`, built by `bash infra/local/setup.sh bqemulator`), the
 * BigQuery emulator of `--engine beam`: REST (the BigQuery API) on one port, gRPC (the Storage Write
 * API) on another, one project, data in `dataDir`. HOME points at the venv's DuckDB home, where
 * setup.sh installed the spatial extension the emulator loads at start (docs/operations.md). It runs
 * in its own process group, stopped only through stop().
 */
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT } from "./settings.js";
import { answers, type BigQueryEmulatorHandle } from "./bigquery-emulator.js";
import { spawnService } from "./service-process.js";

export const BQEMULATOR_VENV = join(REPO_ROOT, ".venv", "bqemulator");
export const bqemulatorInstalled = (): boolean => existsSync(join(BQEMULATOR_VENV, "bin", "bqemulator"));

export async function startBqEmulator(opts: {
  port: number;
  grpcPort: number;
  dataDir: string;
  project: string;
  log?: (line: string) => void;
  timeoutMs?: number;
}): Promise<BigQueryEmulatorHandle> {
  const log = opts.log ?? (() => {});
  const restUrl = `http://127.0.0.1:${opts.port}`;
  const grpcHost = `127.0.0.1:${opts.grpcPort}`;
  if (await answers(restUrl, opts.project)) {
    log(`reusing the BigQuery emulator already listening on ${restUrl}`);
    return { restUrl, grpcHost, project: opts.project, owned: false, stop: async () => {} };
  }
  if (!bqemulatorInstalled()) throw new Error("the BigQuery emulator is not installed (.venv/bqemulator): run bash infra/local/setup.sh bqemulator");
  mkdirSync(opts.dataDir, { recursive: true });
  const args = ["start", "--rest-port", String(opts.port), "--grpc-port", String(opts.grpcPort), "--project", opts.project];
  args.push("--persistent", "--data-dir", opts.dataDir, "--log-level", process.env.TIDELINE_VERBOSE === "1" ? "info" : "warning");
  const svc = spawnService(join(BQEMULATOR_VENV, "bin", "bqemulator"), args, { env: { ...process.env, HOME: join(BQEMULATOR_VENV, "home") }, onLine: log });
  await svc.waitReady(() => answers(restUrl, opts.project), {
    timeoutMs: opts.timeoutMs ?? 90_000,
    pollMs: 300,
    failure: (why) =>
      new Error(
        `the BigQuery emulator could not start on ${restUrl} (gRPC ${grpcHost}): ${why}. If a port is taken, set TIDELINE_BIGQUERY_PORT / TIDELINE_BIGQUERY_GRPC_PORT. Last output:\n${svc.tail.join("\n")}`,
      ),
  });
  return { restUrl, grpcHost, project: opts.project, owned: true, stop: () => svc.stop() };
}
