/**
 * Starts bqemulator (PyPI; `.venv/bqemulator`, built by `bash infra/local/setup.sh bqemulator`), the
 * BigQuery emulator of `--engine beam`: REST (the BigQuery API) on one port, gRPC (the Storage Write
 * API) on another, one project, data in `dataDir`. HOME points at the venv's DuckDB home, where
 * setup.sh installed the spatial extension the emulator loads at start (docs/operations.md). It runs
 * in its own process group, stopped only through stop().
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT } from "./settings.js";
import type { BigQueryEmulatorHandle } from "./bigquery-emulator.js";

export const BQEMULATOR_VENV = join(REPO_ROOT, ".venv", "bqemulator");
export const bqemulatorInstalled = (): boolean => existsSync(join(BQEMULATOR_VENV, "bin", "bqemulator"));

async function answers(restUrl: string, project: string): Promise<boolean> {
  try {
    const r = await fetch(`${restUrl}/bigquery/v2/projects/${project}/datasets`, { signal: AbortSignal.timeout(1000) });
    await r.body?.cancel();
    return r.ok;
  } catch {
    return false;
  }
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals = "SIGKILL") {
  if (!child.pid) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

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
  const child = spawn(join(BQEMULATOR_VENV, "bin", "bqemulator"), args, {
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, HOME: join(BQEMULATOR_VENV, "home") },
  });
  const tail: string[] = [];
  const onData = (b: Buffer) => {
    for (const line of b.toString().split("\n")) {
      if (!line.trim()) continue;
      tail.push(line);
      if (tail.length > 20) tail.shift();
      log(line);
    }
  };
  child.stdout?.on("data", onData);
  child.stderr?.on("data", onData);
  const onExit = () => killGroup(child);
  process.once("exit", onExit);
  const deadline = Date.now() + (opts.timeoutMs ?? 90_000);
  while (!(await answers(restUrl, opts.project))) {
    if (child.exitCode !== null || child.signalCode !== null || Date.now() > deadline) {
      killGroup(child);
      process.removeListener("exit", onExit);
      const why = child.exitCode !== null ? `it exited with code ${child.exitCode}` : "it did not answer in time";
      throw new Error(
        `the BigQuery emulator could not start on ${restUrl} (gRPC ${grpcHost}): ${why}. If a port is taken, set TIDELINE_BIGQUERY_PORT / TIDELINE_BIGQUERY_GRPC_PORT. Last output:\n${tail.join("\n")}`,
      );
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  return {
    restUrl,
    grpcHost,
    project: opts.project,
    owned: true,
    async stop() {
      process.removeListener("exit", onExit);
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once("exit", r));
      killGroup(child, "SIGTERM");
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (child.exitCode === null && child.signalCode === null) killGroup(child, "SIGKILL");
    },
  };
}
