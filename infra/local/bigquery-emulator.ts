/**
 * Starts the BigQuery emulator (goccy/bigquery-emulator, built by `bash infra/local/setup.sh bigquery-emulator` into
 * .tools/bin): REST on one port (the BigQuery API, for @google-cloud/bigquery's `apiEndpoint` or
 * BIGQUERY_EMULATOR_HOST), gRPC on another (the Storage Read and Write APIs), one project, data in
 * a SQLite file under `dataDir`. It runs in its own process group, stopped only through stop().
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { requireTool } from "../tools/tools.js";
import { spawnService } from "./service-process.js";
import { LOCAL_PROJECT } from "../../contracts/defaults.js";

export const BIGQUERY_LOCAL_PROJECT = LOCAL_PROJECT;

export interface BigQueryEmulatorHandle {
  /** http://127.0.0.1:<rest port>: the client's apiEndpoint (and BIGQUERY_EMULATOR_HOST). */
  restUrl: string;
  /** 127.0.0.1:<grpc port>: the Storage Write/Read API endpoint (plaintext gRPC). */
  grpcHost: string;
  project: string;
  owned: boolean;
  stop(): Promise<void>;
}

/** True when a BigQuery emulator answers the datasets list of `project` at `restUrl`. */
export async function answers(restUrl: string, project: string): Promise<boolean> {
  try {
    const r = await fetch(`${restUrl}/bigquery/v2/projects/${project}/datasets`, { signal: AbortSignal.timeout(1000) });
    await r.body?.cancel();
    return r.ok;
  } catch {
    return false;
  }
}

export async function startBigQueryEmulator(opts: {
  host?: string;
  /** REST port; the emulator takes no 0, so tests pass free ports (settings.freePort). */
  port: number;
  grpcPort: number;
  dataDir: string;
  project?: string;
  log?: (line: string) => void;
  timeoutMs?: number;
}): Promise<BigQueryEmulatorHandle> {
  const host = opts.host ?? "127.0.0.1";
  const project = opts.project ?? BIGQUERY_LOCAL_PROJECT;
  const log = opts.log ?? (() => {});
  const restUrl = `http://${host}:${opts.port}`;
  const grpcHost = `${host}:${opts.grpcPort}`;
  if (await answers(restUrl, project)) {
    log(`reusing the BigQuery emulator already listening on ${restUrl}`);
    return { restUrl, grpcHost, project, owned: false, stop: async () => {} };
  }
  const bin = requireTool("bigquery-emulator");
  mkdirSync(opts.dataDir, { recursive: true });
  const args = [
    `--project=${project}`,
    `--host=${host}`,
    `--port=${opts.port}`,
    `--grpc-port=${opts.grpcPort}`,
    `--database=${join(opts.dataDir, `${project}.sqlite`)}`,
    `--log-level=${process.env.TIDELINE_VERBOSE === "1" ? "info" : "warn"}`,
  ];
  const svc = spawnService(bin, args, { onLine: log });
  await svc.waitReady(() => answers(restUrl, project), {
    timeoutMs: opts.timeoutMs ?? 60_000,
    pollMs: 200,
    failure: (why) => {
      const hint = svc.tail.some((l) => /address already in use/.test(l))
        ? ` Port ${opts.port} or ${opts.grpcPort} is taken: set TIDELINE_BIGQUERY_PORT / TIDELINE_BIGQUERY_GRPC_PORT to other ports.`
        : "";
      return new Error(`the BigQuery emulator could not start on ${restUrl} (gRPC ${grpcHost}): ${why}.${hint} Last output:\n${svc.tail.join("\n")}`);
    },
  });
  return { restUrl, grpcHost, project, owned: true, stop: () => svc.stop() };
}
