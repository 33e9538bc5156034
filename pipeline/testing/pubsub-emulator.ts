/**
 * Starts a private Pub/Sub emulator for a test file (own port and data dir) and stops its whole
 * process group afterwards. Stand-in until the shared launcher in infra/local/ is used here.
 */
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface Emulator {
  host: string;
  stop(): Promise<void>;
}

export async function startEmulator(timeoutMs = 60_000): Promise<Emulator> {
  const port = await freePort();
  const base = join(process.cwd(), ".data/scratch");
  mkdirSync(base, { recursive: true });
  const dataDir = mkdtempSync(join(base, "pubsub-"));
  const child = spawn("gcloud", ["beta", "emulators", "pubsub", "start", `--host-port=127.0.0.1:${port}`, `--data-dir=${dataDir}`, "--quiet"], {
    detached: true,
    stdio: "ignore",
  });
  const host = `127.0.0.1:${port}`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const r = await fetch(`http://${host}/`);
      if (r.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline || child.exitCode !== null) {
      if (child.pid) process.kill(-child.pid, "SIGKILL");
      throw new Error(`the Pub/Sub emulator did not start on ${host} within ${timeoutMs} ms (is the gcloud pubsub-emulator component installed?)`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return {
    host,
    async stop() {
      if (child.pid && child.exitCode === null) {
        const exited = new Promise((r) => child.once("exit", r));
        try {
          process.kill(-child.pid, "SIGTERM");
        } catch {
          // already gone
        }
        await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
        if (child.exitCode === null) {
          try {
            process.kill(-child.pid, "SIGKILL");
          } catch {
            // already gone
          }
        }
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
