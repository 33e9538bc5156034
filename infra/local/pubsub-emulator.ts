/**
 * Starts the Google Cloud Pub/Sub emulator (from the Google Cloud SDK), waits until it answers,
 * and creates the topics and subscriptions of contracts/defaults.ts. The emulator is a Java process
 * started by gcloud: it runs in its own process group so that stop() ends both.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { PubSub } from "@google-cloud/pubsub";
import { SUBSCRIPTIONS, TOPICS, type SubscriptionSpec, type TopicSpec } from "../../contracts/defaults.js";
import { PrerequisiteError } from "./prerequisite.js";
import { spawnService } from "./service-process.js";

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
  // The emulator logs every connection and prints Java stack traces when clients hang up; keep
  // those for the error message only (TIDELINE_VERBOSE=1 shows everything).
  const verbose = process.env.TIDELINE_VERBOSE === "1";
  const noise = /^\s*at |^\s*\.\.\. \d+ more|HttpVersionRoutingHandler|Detected (non-)?HTTP|^INFO: |SLF4J|^[A-Z][a-z]{2} \d+, \d{4} .*(AM|PM) |^io\.(grpc|netty)|^java\.|^Caused by|^WARNING: /;
  const svc = spawnService("gcloud", ["beta", "emulators", "pubsub", "start", `--host-port=${host}`, `--data-dir=${opts.dataDir}`, `--project=${opts.project}`, "--quiet"], {
    clean: (raw) => raw.replace(/^\[pubsub\]\s*/, ""),
    onLine: (line) => {
      if (verbose || !noise.test(line)) log(line);
    },
  });
  await svc.waitReady(() => answers(host), {
    timeoutMs: opts.timeoutMs ?? 60_000,
    pollMs: 300,
    failure: (why) => new Error(`the Pub/Sub emulator could not start on ${host}: ${why}. Last output:\n${svc.tail.join("\n")}`),
  });
  return { host, owned: true, stop: () => svc.stop() };
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
