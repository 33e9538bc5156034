/**
 * Starts the Google Cloud Pub/Sub emulator (from the Google Cloud SDK), waits until it answers,
 * and creates the topics and subscriptions of contracts/defaults.ts. The emulator is a Java process
 * started by gcloud: it runs in its own process group so that stop() ends both.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdirSync } from "node:fs";
import { PubSub } from "@google-cloud/pubsub";
import { SUBSCRIPTIONS, TOPICS, type SubscriptionSpec, type TopicSpec } from "../../contracts/defaults.js";
import { PrerequisiteError } from "./prerequisite.js";

export { PrerequisiteError };

export interface EmulatorHandle {
  /** host:port, the value for PUBSUB_EMULATOR_HOST. */
  host: string;
  /** False when an emulator was already listening there and was reused. */
  owned: boolean;
  stop(): Promise<void>;
}

export function checkPubSubPrerequisites(): void {
  const gcloud = spawnSync("gcloud", ["--version"], { encoding: "utf8" });
  if (gcloud.error || gcloud.status !== 0) {
    throw new PrerequisiteError(
      "the Google Cloud SDK (gcloud) was not found. Install it, then the emulator: `gcloud components install pubsub-emulator beta` " +
        "(or on Debian/Ubuntu the package google-cloud-cli-pubsub-emulator).",
    );
  }
  const java = spawnSync("java", ["-version"], { encoding: "utf8" });
  if (java.error || java.status !== 0) {
    throw new PrerequisiteError("Java was not found; the Pub/Sub emulator needs Java 17 or later (e.g. Debian's openjdk-17-jre-headless).");
  }
}

async function answers(host: string): Promise<boolean> {
  try {
    const r = await fetch(`http://${host}/`, { signal: AbortSignal.timeout(1000) });
    return r.ok;
  } catch {
    return false;
  }
}

export async function startPubSubEmulator(opts: {
  host?: string;
  port: number;
  dataDir: string;
  project: string;
  log?: (line: string) => void;
  timeoutMs?: number;
}): Promise<EmulatorHandle> {
  const host = `${opts.host ?? "127.0.0.1"}:${opts.port}`;
  const log = opts.log ?? (() => {});
  if (await answers(host)) {
    log(`reusing the Pub/Sub emulator already listening on ${host}`);
    return { host, owned: false, stop: async () => {} };
  }
  checkPubSubPrerequisites();
  mkdirSync(opts.dataDir, { recursive: true });
  const tail: string[] = [];
  const child: ChildProcess = spawn(
    "gcloud",
    ["beta", "emulators", "pubsub", "start", `--host-port=${host}`, `--data-dir=${opts.dataDir}`, `--project=${opts.project}`, "--quiet"],
    { detached: true, stdio: ["ignore", "pipe", "pipe"] },
  );
  // The emulator logs every connection and prints Java stack traces when clients hang up; keep
  // those for the error message only (TIDELINE_VERBOSE=1 shows everything).
  const verbose = process.env.TIDELINE_VERBOSE === "1";
  const noise = /^\s*at |^\s*\.\.\. \d+ more|HttpVersionRoutingHandler|Detected (non-)?HTTP|^INFO: |SLF4J|^[A-Z][a-z]{2} \d+, \d{4} .*(AM|PM) |^io\.(grpc|netty)|^java\.|^Caused by|^WARNING: /;
  const onData = (b: Buffer) => {
    for (const raw of b.toString().split("\n")) {
      const line = raw.replace(/^\[pubsub\]\s*/, "");
      if (!line.trim()) continue;
      tail.push(line);
      if (tail.length > 20) tail.shift();
      if (verbose || !noise.test(line)) log(line);
    }
  };
  child.stdout?.on("data", onData);
  child.stderr?.on("data", onData);
  // Whatever ends this process (Ctrl-C during start-up, a test runner's timeout) ends the emulator too.
  const onExit = () => killGroup(child);
  process.once("exit", onExit);
  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  while (!(await answers(host))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      killGroup(child);
      const why = child.exitCode !== null ? `it exited with code ${child.exitCode}` : "it did not answer in time";
      throw new Error(`the Pub/Sub emulator could not start on ${host}: ${why}. Last output:\n${tail.join("\n")}`);
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  return {
    host,
    owned: true,
    async stop() {
      process.removeListener("exit", onExit);
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once("exit", r));
      killGroup(child, "SIGTERM");
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (child.exitCode === null) killGroup(child, "SIGKILL");
    },
  };
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals = "SIGKILL") {
  if (!child.pid) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

/** Creates the topics and subscriptions (idempotent). */
export async function ensureResources(emulatorHost: string, project: string, resources: { topics: TopicSpec[]; subscriptions: SubscriptionSpec[] } = { topics: TOPICS, subscriptions: SUBSCRIPTIONS }): Promise<void> {
  const pubsub = new PubSub({ projectId: project, apiEndpoint: emulatorHost, emulatorMode: true });
  try {
    for (const t of resources.topics) {
      const [exists] = await pubsub.topic(t.name).exists();
      if (!exists) await pubsub.createTopic(t.name).catch((e: { code?: number }) => (e.code === 6 ? undefined : Promise.reject(e)));
    }
    for (const s of resources.subscriptions) {
      const [exists] = await pubsub.subscription(s.name).exists();
      if (!exists) {
        await pubsub
          .topic(s.topic)
          .createSubscription(s.name, { ackDeadlineSeconds: s.ackDeadlineSeconds, enableMessageOrdering: Boolean(s.enableMessageOrdering) })
          .catch((e: { code?: number }) => (e.code === 6 ? undefined : Promise.reject(e)));
      }
    }
  } finally {
    await pubsub.close();
  }
}
