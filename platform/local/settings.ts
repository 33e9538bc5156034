/**
 * The local platform's settings: the defaults of contracts/defaults.ts, each port overridable by its
 * environment variable, and the data folder. Every command reads them here.
 */
import { join, resolve } from "node:path";
import { LOCAL_PORTS, LOCAL_PROJECT, LOCALHOST, type LocalPortName } from "../../contracts/defaults.js";
import { REPO_ROOT } from "../../infra/local/settings.js";

function port(name: LocalPortName): number {
  const { env, port: fallback } = LOCAL_PORTS[name];
  const v = process.env[env];
  if (v === undefined || v === "") return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new Error(`${env}=${v} is not a port number (1–65535)`);
  return n;
}

export function localSettings() {
  const dataDir = resolve(process.env.TIDELINE_DATA_DIR ?? join(REPO_ROOT, ".data"));
  return {
    project: process.env.TIDELINE_PROJECT ?? LOCAL_PROJECT,
    dataDir,
    pidFile: join(dataDir, "tideline.pid"),
    edgePort: port("edge"),
    edgeInspectorPort: port("edgeInspector"),
    pubsubPort: port("pubsub"),
    gcsPort: port("gcs"),
    bigqueryPort: port("bigquery"),
    bigqueryGrpcPort: port("bigqueryGrpc"),
    dashboardPort: port("dashboard"),
  };
}
export type LocalSettings = ReturnType<typeof localSettings>;

/** The edge's base URL: TIDELINE_EDGE_URL, else 127.0.0.1 on TIDELINE_EDGE_PORT. */
export const edgeUrl = (s: LocalSettings = localSettings()): string => process.env.TIDELINE_EDGE_URL ?? `http://${LOCALHOST}:${s.edgePort}`;
/** The Pub/Sub emulator: PUBSUB_EMULATOR_HOST, else 127.0.0.1 on TIDELINE_PUBSUB_PORT. */
export const pubsubEmulatorHost = (s: LocalSettings = localSettings()): string => process.env.PUBSUB_EMULATOR_HOST ?? `${LOCALHOST}:${s.pubsubPort}`;
/** The Cloud Storage emulator: STORAGE_EMULATOR_HOST, else 127.0.0.1 on TIDELINE_GCS_PORT. */
export const storageEmulatorUrl = (s: LocalSettings = localSettings()): string => process.env.STORAGE_EMULATOR_HOST ?? `http://${LOCALHOST}:${s.gcsPort}`;
