/**
 * The check-only validation (parse.ts, checkerFor: no defaults filled, no unknown members removed)
 * must accept exactly the records the full validation accepts, or archive events prepared on worker
 * threads would be judged by other rules than streamed ones.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { asMessage, cdcRecord, eventRecord, webhookRecord } from "../testing/records.js";
import { MAX_DEAD_LETTER_PAYLOAD_BYTES, MAX_PIPELINE_RECORD_BYTES } from "../../contracts/limits.js";
import { checkerFor, checkOnlySchema, parseMessage, utf8Prefix } from "./parse.js";
import type { InputStream } from "./types.js";

const NOW = "2026-11-25T12:00:00.000Z";

const valid: Record<Exclude<InputStream, "dead-letters">, (i: number) => object> = {
  events: (i) => eventRecord(i, "2026-11-25T11:59:00.000Z"),
  webhooks: (i) => webhookRecord(i, "2026-11-25T11:59:00.000Z"),
  cdc: (i) => cdcRecord({ table: "orders", op: (["c", "u", "d", "r"] as const)[i % 4]!, pos: i + 1, id: i, before: i % 4 === 0 ? null : { id: i, status: "paid" }, after: i % 4 === 2 ? null : { id: i, status: "shipped" } }),
};

/** Omitting null members, as the edge writes records on the wire. */
const wireForm = (r: object) => Object.fromEntries(Object.entries(r).filter(([, v]) => v !== null));

type Mutation = { kind: "delete"; key: number } | { kind: "set"; key: number; value: unknown } | { kind: "unknown"; name: string; value: unknown } | { kind: "nested"; key: number; name: string; value: unknown };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant("delete" as const), key: fc.nat() }),
  fc.record({ kind: fc.constant("set" as const), key: fc.nat(), value: fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constant(null), fc.constant("2026-11-25T11:00:00Z"), fc.constant("track")) }),
  fc.record({ kind: fc.constant("unknown" as const), name: fc.string({ minLength: 1, maxLength: 8 }), value: fc.jsonValue({ maxDepth: 1 }) }),
  fc.record({ kind: fc.constant("nested" as const), key: fc.nat(), name: fc.string({ minLength: 1, maxLength: 8 }), value: fc.jsonValue({ maxDepth: 1 }) }),
);

function mutate(record: object, ms: Mutation[]): Record<string, unknown> {
  const r = structuredClone(record) as Record<string, unknown>;
  for (const m of ms) {
    const keys = Object.keys(r);
    if (m.kind === "unknown") r[m.name] = m.value;
    else if (keys.length === 0) continue;
    else if (m.kind === "delete") delete r[keys[m.key % keys.length]!];
    else if (m.kind === "set") r[keys[m.key % keys.length]!] = m.value;
    else {
      const inner = r[keys[m.key % keys.length]!];
      if (typeof inner === "object" && inner !== null && !Array.isArray(inner)) (inner as Record<string, unknown>)[m.name] = m.value;
    }
  }
  return r;
}

describe("check-only validation", () => {
  it("drops only `default`, `additionalProperties: false` and the requirement of members that have a default", () => {
    const s = checkOnlySchema({ type: "object", properties: { a: { type: "string" }, b: { default: null, type: ["string", "null"] } }, required: ["a", "b"], additionalProperties: false });
    expect(s).toEqual({ type: "object", properties: { a: { type: "string" }, b: { type: ["string", "null"] } }, required: ["a"] });
  });

  for (const stream of ["events", "webhooks", "cdc"] as const) {
    it(`accepts exactly what the full validation accepts (${stream}: mutated records, on the wire and in full)`, () => {
      const check = checkerFor(stream);
      let accepted = 0;
      let rejected = 0;
      fc.assert(
        fc.property(fc.nat(1000), fc.boolean(), fc.array(mutation, { maxLength: 4 }), (i, wire, ms) => {
          const base = valid[stream](i);
          const r = mutate(wire ? wireForm(base) : base, ms);
          const full = parseMessage(asMessage(stream, r as never), NOW).ok;
          expect(check(structuredClone(r))).toBe(full);
          if (full) accepted++;
          else rejected++;
        }),
        { numRuns: 400, seed: 20261125 },
      );
      // Both outcomes were exercised, so the comparison could have failed either way.
      expect(accepted).toBeGreaterThan(50);
      expect(rejected).toBeGreaterThan(50);
    });
  }

  it("leaves the record as it is: an accepted event keeps omitted members omitted and unknown members in place", () => {
    const r = { ...wireForm(eventRecord(7, "2026-11-25T11:59:00.000Z")), extra: 1 } as Record<string, unknown>;
    const p = parseMessage(asMessage("events", r as never), NOW, { checkOnly: true });
    expect(p.ok).toBe(true);
    if (!p.ok) return;
    expect("name" in p.parsed.record).toBe(false);
    expect((p.parsed.record as unknown as Record<string, unknown>).extra).toBe(1);
    // The full path fills and removes, as the contract's parse does.
    const q = parseMessage(asMessage("events", r as never), NOW);
    expect(q.ok && (q.parsed.record as unknown as Record<string, unknown>).name === null && !("extra" in q.parsed.record)).toBe(true);
  });

  it("a rejected record gets the full validation's dead letter", () => {
    const bad = { ...eventRecord(8, "2026-11-25T11:59:00.000Z"), event_ts: "yesterday" };
    const a = parseMessage(asMessage("events", bad), NOW, { checkOnly: true });
    const b = parseMessage(asMessage("events", bad), NOW);
    expect(a).toEqual(b);
    expect(a.ok).toBe(false);
  });
});

describe("messages no contract applies to", () => {
  const NOW2 = "2026-11-25T12:00:00.000Z";
  it("an unknown stream is a dead letter naming the streams, not a crash", () => {
    const r = parseMessage({ stream: "orders" as never, data: "{}", messageId: "m1" }, NOW2);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.deadLetter.reason).toBe("message m1 names the unknown stream 'orders'; the pipeline loads events, webhooks, cdc, dead-letters: publish it to the topic of its stream");
  });

  it("an oversize record keeps a prefix of its text, cut at a character boundary", () => {
    const data = "é".repeat(MAX_PIPELINE_RECORD_BYTES / 2 + 1);
    const r = parseMessage({ stream: "events", data, attributes: { event_id: "e1" } }, NOW2);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.deadLetter.reason).toContain(`is ${MAX_PIPELINE_RECORD_BYTES + 2} bytes, over the ${MAX_PIPELINE_RECORD_BYTES}-byte limit`);
    expect(r.deadLetter.event_id).toBe("e1");
    expect(Buffer.byteLength(r.deadLetter.payload)).toBe(MAX_DEAD_LETTER_PAYLOAD_BYTES);
    expect(utf8Prefix("aé", 2)).toBe("a");
  });

  it("a non-object after a failed record names itself, not the previous record's issues", () => {
    parseMessage({ stream: "events", data: JSON.stringify({ event_id: "x" }) }, NOW2);
    const r = parseMessage({ stream: "events", data: "[1]" }, NOW2);
    expect(!r.ok && r.deadLetter.reason).toBe("events record does not match the contract (contracts/records.ts): (record): must be a JSON object");
  });
});
