import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { writeRowsNdjson, writeSourcesNdjson } from "./stage-ndjson.js";
import { parseMessage } from "../pipeline/transforms/parse.js";
import { SourcedEvent } from "../pipeline/transforms/sourced-event.js";
import { eventRecord } from "../pipeline/testing/records.js";
import { EVENT_TIME_COLUMNS } from "../pipeline/transforms/types.js";

const DIR = join(process.cwd(), ".data/scratch/stage-ndjson-test");
const FILE = join(DIR, "rows.ndjson");
const NOW = "2026-11-25T12:00:00.000Z";
const columns = { event_date: "2026-11-25", is_late: false, lateness_ms: 0, loaded_at: NOW };
const lines = () => readFileSync(FILE, "utf8").trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);

/** A record parsed from its text, with the pipeline's columns added as assignEventTime does. */
function parsedRow(text: string) {
  const r = parseMessage({ stream: "events", data: text }, NOW);
  if (!r.ok) throw new Error(r.deadLetter.reason);
  return Object.assign(r.parsed.record, columns);
}
function sourcedRow(text: string) {
  const rec = eventRecord(1, "2026-11-25T11:00:00.000Z");
  const bytes = Buffer.from(`${text}\n`);
  return Object.assign(new SourcedEvent(rec.event_id, rec.event_ts, rec.type, rec.event, undefined, bytes, 0, bytes.length - 1), columns);
}

beforeAll(() => mkdirSync(DIR, { recursive: true }));
afterAll(() => rmSync(DIR, { recursive: true, force: true }));

describe("staging rows for a warehouse load", () => {
  it("writes a row as its message text plus the pipeline's columns, members the contract drops included", () => {
    const text = JSON.stringify({ ...eventRecord(1, "2026-11-25T11:00:00.000Z"), unknown_member: 7 });
    writeRowsNdjson(FILE, [parsedRow(text), sourcedRow(text)], EVENT_TIME_COLUMNS);
    for (const l of lines()) expect(l).toMatchObject({ ...JSON.parse(text), ...columns });
    expect(readFileSync(FILE, "utf8").split("\n")[0]).toBe(`${text.slice(0, -1)},"event_date":"2026-11-25","is_late":false,"lateness_ms":0,"loaded_at":"${NOW}"}`);
  });

  it("never writes a member twice when the text already names a pipeline column", () => {
    const forged = JSON.stringify({ ...eventRecord(1, "2026-11-25T11:00:00.000Z"), is_late: true, lateness_ms: 999 });
    writeRowsNdjson(FILE, [parsedRow(forged), sourcedRow(forged)], EVENT_TIME_COLUMNS);
    const raw = readFileSync(FILE, "utf8").trim().split("\n");
    for (const l of raw) expect(l.match(/"is_late"/g)).toHaveLength(1);
    for (const l of lines()) expect(l).toMatchObject({ is_late: false, lateness_ms: 0, event_date: "2026-11-25" });
  });

  it("writes texts alone, and refuses a row that has none", () => {
    const text = JSON.stringify(eventRecord(2, "2026-11-25T11:00:00.000Z"));
    writeSourcesNdjson(FILE, [parsedRow(text), sourcedRow(text)]);
    expect(readFileSync(FILE, "utf8")).toBe(`${text}\n${text}\n`);
    expect(() => writeSourcesNdjson(FILE, [{ event_id: "x" }])).toThrow(/without its message text/);
  });
});
