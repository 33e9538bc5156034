/** Observes what the Worker puts on the ingest queue (the real binding keeps working underneath). */
import { env } from "cloudflare:test";
import { vi } from "vitest";
import { EventRecord } from "../../../contracts/records.js";

export interface Envelope {
  v: number;
  stream: string;
  records: Record<string, unknown>[];
}

export function watchQueue() {
  const spy = vi.spyOn(env.INGEST_QUEUE, "sendBatch");
  return {
    spy,
    /** Every sendBatch call: its messages as parsed envelopes. */
    calls(): { body: string; envelope: Envelope; contentType?: string }[][] {
      return spy.mock.calls.map(([msgs]) =>
        [...msgs].map((m) => ({ body: m.body as string, envelope: JSON.parse(m.body as string) as Envelope, contentType: m.contentType })),
      );
    },
    /** Queued records; event records parsed with the contract (which restores omitted nulls). */
    records(): Record<string, unknown>[] {
      return this.calls()
        .flat()
        .flatMap((m) => (m.envelope.stream === "events" ? m.envelope.records.map((r) => EventRecord.parse(r)) : m.envelope.records));
    },
    /** Queued records exactly as they are on the wire. */
    wireRecords(): Record<string, unknown>[] {
      return this.calls().flat().flatMap((m) => m.envelope.records);
    },
    restore() {
      spy.mockRestore();
    },
  };
}

export const WRITE_KEY = "local_dev_write_key";
export const basic = (user: string, pass = "") => `Basic ${btoa(`${user}:${pass}`)}`;

export async function gzip(text: string): Promise<Uint8Array> {
  const stream = new Blob([text]).stream().pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}
