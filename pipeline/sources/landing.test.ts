import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { eventRecord } from "../testing/records.js";
import { checkLandingObject, positionProblem } from "./landing.js";

const NOW = "2026-11-25T12:00:00.000Z";
const lines = (records: object[]) => gzipSync(records.map((r) => JSON.stringify(r)).join("\n"));
const keptLines = (b: Buffer) => (b.length ? b.toString("utf8").split("\n") : []);

describe("landing objects are checked against their metadata", () => {
  const web = [eventRecord(1, NOW), eventRecord(2, NOW)];

  it("keeps records of the uploader's source and refuses others with the reason", () => {
    const forged = eventRecord(3, NOW, { source: "shopify" });
    const r = checkLandingObject("landing/events/dt=2026-11-25/a.ndjson.gz", "events", { stream: "events", source: "web" }, lines([...web, forged]), NOW);
    expect(keptLines(r.accepted).map((l) => JSON.parse(l).event_id)).toEqual(web.map((w) => w.event_id));
    expect(r.deadLetters).toHaveLength(1);
    expect(r.deadLetters[0]).toMatchObject({ stage: "pipeline", stream: "events", event_id: forged.event_id, payload: JSON.stringify(forged) });
    expect(r.deadLetters[0]!.reason).toMatch(/line 3: record of source "shopify" in an upload of source "web"/);
  });

  it("refuses every line of an object without metadata, or whose metadata names another stream", () => {
    for (const meta of [{}, { stream: "webhooks", source: "web" }, { stream: "events" }] as Record<string, string>[]) {
      const r = checkLandingObject("landing/events/dt=2026-11-25/b.ndjson.gz", "events", meta, lines(web), NOW);
      expect(r.accepted.length).toBe(0);
      expect(r.deadLetters).toHaveLength(2);
      expect(r.deadLetters[0]!.reason).toMatch(/POST \/v1\/bulk/);
    }
  });

  it("passes lines that are not records on to the graph's parser (which dead-letters them with its own reason)", () => {
    const r = checkLandingObject("landing/events/dt=2026-11-25/c.ndjson.gz", "events", { stream: "events", source: "web" }, Buffer.from('not json\n{"event_id":"x","source":"web"}'), NOW);
    expect(keptLines(r.accepted)).toEqual(["not json", '{"event_id":"x","source":"web"}']);
  });

  it("refuses CDC records whose position their connector cannot produce", () => {
    const cdc = (connector: string, position: string) => ({ event_id: `${connector}-${position}`, source_connector: connector, position });
    const good = [
      cdc("postgresql", `${"0".repeat(10)}1234567890:${"0".repeat(10)}1234567891`),
      cdc("mysql", `${"0".repeat(19)}9:${"0".repeat(17)}901:${"0".repeat(10)}`),
      cdc("sqlserver", "00000027:00000758:0005:00000027:00000758:0003:0000000001"),
      cdc("mongodb", `${String(Date.parse(NOW) - 1000).padStart(20, "0")}:0000000001`),
      cdc("oracle", "00000000000012345678"),
    ];
    const bad = [
      cdc("postgresql", `${"9".repeat(30)}:${"9".repeat(30)}`),
      cdc("postgresql", `${"9".repeat(20)}:${"9".repeat(20)}`),
      cdc("sqlserver", "ffffffffffffffffffffff:0:0000000001"),
      cdc("unknown", `${String(Date.parse(NOW) + 86_400_000).padStart(20, "0")}:0000000000`),
    ];
    const r = checkLandingObject("landing/cdc/dt=2026-11-25/d.ndjson.gz", "cdc", { stream: "cdc", source: "cdc" }, lines([...good, ...bad]), NOW);
    expect(keptLines(r.accepted).map((l) => JSON.parse(l).event_id)).toEqual(good.map((g) => g.event_id));
    expect(r.deadLetters.map((d) => d.event_id)).toEqual(bad.map((b) => b.event_id));
    expect(positionProblem("postgresql", `${"9".repeat(20)}:${"0".repeat(20)}`, Date.parse(NOW))).toMatch(/64 bits/);
    const wrongSource = checkLandingObject("landing/cdc/dt=2026-11-25/e.ndjson.gz", "cdc", { stream: "cdc", source: "web" }, lines(good), NOW);
    expect(wrongSource.deadLetters).toHaveLength(good.length);
  });
});
