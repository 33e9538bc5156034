/**
 * Streaming source: the pipeline's Pub/Sub subscriptions through the official client, which talks
 * to the emulator when PUBSUB_EMULATOR_HOST is set. Messages are buffered as they stream in and
 * taken in micro-batches; each is acknowledged only after its batch is committed (or nacked for
 * redelivery when the commit failed).
 */
import { PubSub, type Message, type Subscription } from "@google-cloud/pubsub";
import { INPUT_STREAMS } from "../../contracts/records.js";
import { LOCAL_PROJECT, PIPELINE_SUBSCRIPTIONS as SUBSCRIPTION_NAMES, SUBSCRIPTIONS } from "../../contracts/defaults.js";
import type { InboundMessage, InputStream } from "../transforms/types.js";

export interface SubscriptionSpec {
  stream: InputStream;
  topic: string;
  subscription: string;
  /** CDC: ordering keys keep the changes of one row in order. */
  ordered?: boolean;
}

/** The subscriptions the pipeline owns, one per input stream (contracts/defaults.ts). */
export const PIPELINE_SUBSCRIPTIONS: SubscriptionSpec[] = INPUT_STREAMS.map((stream) => {
  const s = SUBSCRIPTIONS.find((x) => x.name === SUBSCRIPTION_NAMES[stream])!;
  return { stream, topic: s.topic, subscription: s.name, ...(s.enableMessageOrdering ? { ordered: true } : {}) };
});

const ACK_DEADLINE_SECONDS = 60;

/** Creates missing topics and subscriptions (idempotent); production creates them with Terraform. */
export async function ensureSubscriptions(pubsub: PubSub, specs = PIPELINE_SUBSCRIPTIONS): Promise<void> {
  for (const s of specs) {
    const topic = pubsub.topic(s.topic);
    const [topicExists] = await topic.exists();
    if (!topicExists) await topic.create().catch((e: { code?: number }) => (e.code === 6 ? undefined : Promise.reject(e)));
    const sub = pubsub.subscription(s.subscription);
    const [subExists] = await sub.exists();
    if (!subExists) {
      await topic
        .createSubscription(s.subscription, { ackDeadlineSeconds: ACK_DEADLINE_SECONDS, enableMessageOrdering: Boolean(s.ordered) })
        .catch((e: { code?: number }) => (e.code === 6 ? undefined : Promise.reject(e)));
    }
  }
}

export interface PulledMessage {
  inbound: InboundMessage;
  message: Message;
}

export class PubSubSource {
  private buffer: PulledMessage[] = [];
  private subs: Subscription[] = [];
  private waiters: (() => void)[] = [];
  private errors: Error[] = [];

  constructor(
    readonly pubsub: PubSub,
    private readonly specs = PIPELINE_SUBSCRIPTIONS,
    private readonly maxOutstanding = 10_000,
  ) {}

  static local(projectId = process.env.PUBSUB_PROJECT_ID ?? LOCAL_PROJECT): PubSubSource {
    return new PubSubSource(new PubSub({ projectId }));
  }

  start(): void {
    for (const s of this.specs) {
      const sub = this.pubsub.subscription(s.subscription, {
        flowControl: { maxMessages: this.maxOutstanding, allowExcessMessages: false },
      });
      sub.on("message", (message: Message) => {
        this.buffer.push({
          message,
          inbound: {
            stream: s.stream,
            data: message.data.toString("utf8"),
            attributes: message.attributes,
            messageId: message.id,
            deliveryAttempt: message.deliveryAttempt || 1,
          },
        });
        this.wake();
      });
      sub.on("error", (e: Error) => {
        this.errors.push(e);
        this.wake();
      });
      this.subs.push(sub);
    }
  }

  private wake() {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Resolves when messages are buffered, an error arrived, or after `timeoutMs`. */
  waitForMessages(timeoutMs: number): Promise<void> {
    if (this.buffer.length > 0 || this.errors.length > 0) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(resolve, timeoutMs);
      this.waiters.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  takeErrors(): Error[] {
    return this.errors.splice(0);
  }

  take(max: number): PulledMessage[] {
    return this.buffer.splice(0, max);
  }

  get buffered(): number {
    return this.buffer.length;
  }

  ack(batch: PulledMessage[]): void {
    for (const m of batch) m.message.ack();
  }

  nack(batch: PulledMessage[]): void {
    for (const m of batch) m.message.nack();
  }

  /** Stops receiving; buffered (never committed) messages are released for redelivery. */
  async close(): Promise<void> {
    this.nack(this.buffer.splice(0));
    await Promise.all(this.subs.map((s) => s.close()));
    this.subs = [];
  }
}
