/**
 * Starts the Cloud Storage emulator: fake-gcs-server's JSON API with its filesystem backend, built
 * by `npm install` into .tools/bin/gcs-emulator (infra/tools/gcs-emulator says what its guard adds),
 * waits until it answers, and creates the buckets. It runs in its own process group so that a
 * Ctrl-C reaches it only through stop(), after the services that write to it.
 */
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { requireTool } from "../tools/tools.js";
import { spawnService } from "./service-process.js";

export interface GcsEmulatorHandle {
  /** http://127.0.0.1:<port>: the value for STORAGE_EMULATOR_HOST and for clients' apiEndpoint. */
  url: string;
  port: number;
  /** False when an emulator was already listening there and was reused. */
  owned: boolean;
  stop(): Promise<void>;
}

async function healthy(url: string): Promise<boolean> {
  try {
    const r = await fetch(`${url}/_internal/healthcheck`, { signal: AbortSignal.timeout(1000) });
    await r.body?.cancel();
    return r.ok;
  } catch {
    return false;
  }
}

async function ensureBuckets(url: string, buckets: string[]): Promise<void> {
  for (const name of buckets) {
    const r = await fetch(`${url}/storage/v1/b`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ name }) });
    await r.body?.cancel();
    if (!r.ok && r.status !== 409) throw new Error(`could not create the bucket ${name} in the Cloud Storage emulator at ${url}: HTTP ${r.status}`);
  }
}

export async function startGcsEmulator(opts: {
  host?: string;
  /** 0: any free port (tests). */
  port: number;
  dataDir: string;
  buckets?: string[];
  log?: (line: string) => void;
  timeoutMs?: number;
}): Promise<GcsEmulatorHandle> {
  const host = opts.host ?? "127.0.0.1";
  const log = opts.log ?? (() => {});
  const buckets = opts.buckets ?? [];
  if (opts.port !== 0 && (await healthy(`http://${host}:${opts.port}`))) {
    const url = `http://${host}:${opts.port}`;
    log(`reusing the Cloud Storage emulator already listening on ${url}`);
    await ensureBuckets(url, buckets);
    return { url, port: opts.port, owned: false, stop: async () => {} };
  }
  const bin = requireTool("gcs-emulator");
  mkdirSync(opts.dataDir, { recursive: true });
  if (existsSync(join(opts.dataDir, "buckets")) && existsSync(join(opts.dataDir, "uploads")) && !existsSync(join(opts.dataDir, "buckets.bucketMetadata"))) {
    log(`${opts.dataDir} still holds the files of the former home-made store, which the emulator does not read; \`npx tideline reset\` clears them`);
  }
  const args = ["-root", opts.dataDir, "-host", host, "-port", String(opts.port), ...buckets.flatMap((b) => ["-bucket", b])];
  if (process.env.TIDELINE_VERBOSE === "1") args.push("-verbose");
  // Its port is known only from its "listening on" line when it was asked for any free port.
  const listening: { url?: string } = {};
  const svc = spawnService(bin, args, {
    onLine: (line) => {
      listening.url ??= /^listening on (http:\/\/\S+)/.exec(line)?.[1];
      log(line);
    },
  });
  await svc.waitReady(async () => listening.url !== undefined && (await healthy(listening.url)), {
    timeoutMs: opts.timeoutMs ?? 30_000,
    pollMs: 100,
    failure: (why) => {
      const hint = svc.tail.some((l) => /address already in use/.test(l)) ? ` Port ${opts.port} is taken: set TIDELINE_GCS_PORT to another port.` : "";
      return new Error(`the Cloud Storage emulator could not start on ${host}:${opts.port}: ${why}.${hint} Last output:\n${svc.tail.join("\n")}`);
    },
  });
  const ready = listening.url!;
  return { url: ready, port: Number(new URL(ready).port), owned: true, stop: () => svc.stop() };
}
