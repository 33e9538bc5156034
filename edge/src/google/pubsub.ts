/** Pub/Sub publish over REST, split within the API's limits (1,000 messages, 10 MB per request). */
import { PUBSUB_PUBLISH_MAX_BYTES, PUBSUB_PUBLISH_MAX_MESSAGES } from "../../../contracts/limits.js";
import { authHeaders, pubsubBase, type GoogleEnv } from "./auth.js";
import { callWithRetry } from "./http.js";

export interface OutMessage {
  /** The record as JSON text. */
  data: string;
  attributes: Record<string, string>;
  orderingKey?: string;
}

const utf8ToBase64 = (s: string) => Buffer.from(s, "utf8").toString("base64");

/** Request bodies for the messages, each within the publish limits (with room for JSON framing). */
export function publishRequests(messages: OutMessage[]): string[] {
  const bodies: string[] = [];
  let parts: string[] = [];
  let bytes = 0;
  const budget = PUBSUB_PUBLISH_MAX_BYTES - 64 * 1024;
  const flush = () => {
    if (parts.length) bodies.push(`{"messages":[${parts.join(",")}]}`);
    parts = [];
    bytes = 0;
  };
  for (const m of messages) {
    const json = JSON.stringify({ data: utf8ToBase64(m.data), attributes: m.attributes, ...(m.orderingKey ? { orderingKey: m.orderingKey } : {}) });
    if (parts.length >= PUBSUB_PUBLISH_MAX_MESSAGES || (parts.length && bytes + json.length > budget)) flush();
    parts.push(json);
    bytes += json.length + 1;
  }
  flush();
  return bodies;
}

export async function publish(env: GoogleEnv, topic: string, messages: OutMessage[]): Promise<number> {
  const url = `${pubsubBase(env)}/v1/projects/${env.GCP_PROJECT}/topics/${topic}:publish`;
  const bodies = publishRequests(messages);
  for (const body of bodies) {
    await callWithRetry("publish", url, async () => ({ method: "POST", headers: { "content-type": "application/json", ...(await authHeaders(env, "pubsub")) }, body }));
  }
  return bodies.length;
}
