/**
 * A private Pub/Sub emulator for a test file or benchmark: the shared launcher of npm start
 * (infra/local/pubsub-emulator.ts) on a free port with its own data folder, removed afterwards.
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { startPubSubEmulator } from "../../infra/local/pubsub-emulator.js";
import { freePort } from "../../infra/local/settings.js";
import { LOCAL_PROJECT } from "../../contracts/defaults.js";


export interface Emulator {
  host: string;
  stop(): Promise<void>;
}

export async function startEmulator(timeoutMs = 60_000): Promise<Emulator> {
  const port = await freePort();
  const base = join(process.cwd(), ".data/scratch");
  mkdirSync(base, { recursive: true });
  const dataDir = mkdtempSync(join(base, "pubsub-"));
  const handle = await startPubSubEmulator({ port, dataDir, project: LOCAL_PROJECT, timeoutMs });
  return {
    host: handle.host,
    async stop() {
      await handle.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
