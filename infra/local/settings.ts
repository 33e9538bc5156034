/** Local platform settings: ports (API.md defaults, overridable by environment) and the data folder. */
import { createServer } from "node:net";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

const port = (name: string, fallback: number) => {
  const v = process.env[name];
  if (v === undefined || v === "") return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new Error(`${name}=${v} is not a port number (1–65535)`);
  return n;
};

export function localSettings() {
  const dataDir = resolve(process.env.TIDELINE_DATA_DIR ?? join(REPO_ROOT, ".data"));
  return {
    project: process.env.TIDELINE_PROJECT ?? "tideline-local",
    dataDir,
    pidFile: join(dataDir, "tideline.pid"),
    edgePort: port("TIDELINE_EDGE_PORT", 8787),
    pubsubPort: port("TIDELINE_PUBSUB_PORT", 8085),
    gcsPort: port("TIDELINE_GCS_PORT", 4443),
    bigqueryPort: port("TIDELINE_BIGQUERY_PORT", 9050),
    bigqueryGrpcPort: port("TIDELINE_BIGQUERY_GRPC_PORT", 9060),
    dashboardPort: port("TIDELINE_DASHBOARD_PORT", 3000),
  };
}
export type LocalSettings = ReturnType<typeof localSettings>;

/** A port nothing listens on right now (for tests and benches that run their own stack). */
export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolvePort(port));
    });
  });
}
