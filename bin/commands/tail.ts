/**
 * `npx tideline tail <stream>`: prints records as they arrive on a topic, through a temporary
 * subscription of its own (deleted on exit), so the pipeline's subscriptions are not disturbed.
 */
import { randomBytes } from "node:crypto";
import { PubSub, type Message } from "@google-cloud/pubsub";
import { Command } from "commander";
import { TOPICS } from "../../contracts/defaults.js";
import { localSettings, pubsubEmulatorHost } from "../../platform/local/settings.js";

/** How long tail waits for the emulator to create its subscription. */
const CONNECT_TIMEOUT_MS = 5_000;

export async function tail(topicName: string, opts: { json?: boolean; limit?: number }): Promise<number> {
  const s = localSettings();
  const topics = TOPICS.map((t) => t.name);
  if (!topics.includes(topicName)) {
    console.error(`tideline tail: unknown stream "${topicName}"; one of: ${topics.join(", ")}`);
    return 2;
  }
  const host = pubsubEmulatorHost(s);
  process.env.METADATA_SERVER_DETECTION ??= "none";
  const pubsub = new PubSub({ projectId: s.project, apiEndpoint: host, emulatorMode: true });
  const name = `tail-${topicName}-${randomBytes(4).toString("hex")}`;
  try {
    // Without a deadline the client retries an unreachable emulator for minutes before saying anything.
    await pubsub.topic(topicName).createSubscription(name, { ackDeadlineSeconds: 10, gaxOpts: { timeout: CONNECT_TIMEOUT_MS, retry: null } });
  } catch (e) {
    console.error(`tideline tail: cannot reach the Pub/Sub emulator at ${host} (${(e as Error).message}). Is \`npm start\` running?`);
    await pubsub.close();
    return 3;
  }
  const sub = pubsub.subscription(name);
  let seen = 0;
  let finish!: (code: number) => void;
  const finished = new Promise<number>((r) => (finish = r));
  const onMessage = (m: Message) => {
    m.ack();
    seen++;
    if (opts.json) process.stdout.write(m.data.toString("utf8") + "\n");
    else {
      const a = m.attributes;
      const body = m.data.toString("utf8");
      process.stdout.write(`${a.event_ts ?? ""} ${topicName} ${a.source ?? ""} ${a.event_id ?? m.id} ${body.length > 160 ? body.slice(0, 159) + "…" : body}\n`);
    }
    if (opts.limit && seen >= opts.limit) finish(0);
  };
  sub.on("message", onMessage);
  sub.on("error", (e) => {
    console.error(`tideline tail: ${(e as Error).message}`);
    finish(1);
  });
  process.once("SIGINT", () => finish(0));
  process.once("SIGTERM", () => finish(0));
  if (!opts.json) console.error(`tailing ${topicName} on ${host} (Ctrl-C to stop)…`);
  const code = await finished;
  sub.removeListener("message", onMessage);
  await sub.close().catch(() => {});
  await sub.delete().catch(() => {});
  await pubsub.close();
  return code;
}

export function tailCommand(): Command {
  return new Command("tail")
    .description("show records arriving on a topic (events, webhooks, cdc, dead-letters, …)")
    .argument("<stream>", "topic name")
    .option("--json", "print each record as one JSON line, nothing else")
    .option("--limit <n>", "stop after n records", (v) => Number.parseInt(v, 10))
    .action(async (stream: string, opts: { json?: boolean; limit?: number }) => {
      process.exitCode = await tail(stream, opts);
    });
}
export default tailCommand;
