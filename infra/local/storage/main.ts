/** Runs the local Cloud Storage stand-in alone: `npx tsx infra/local/storage/main.ts`. */
import { join } from "node:path";
import { loadResources, bucketName } from "../../resources.js";
import { localSettings } from "../settings.js";
import { startGcsStore } from "./server.js";

const s = localSettings();
const r = loadResources();
const store = await startGcsStore({
  port: s.gcsPort,
  dataDir: join(s.dataDir, "gcs"),
  buckets: [bucketName(r.buckets.raw, s.project), bucketName(r.buckets.landing, s.project)],
  log: (l) => console.log(l),
  verbose: process.env.TIDELINE_VERBOSE === "1",
});
console.log(`Cloud Storage stand-in on ${store.url} (STORAGE_EMULATOR_HOST=${store.url}); Ctrl-C stops it`);
process.once("SIGINT", () => void store.close().then(() => process.exit(0)));
