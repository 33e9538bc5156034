import { SELF } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CdcRecord } from "../../contracts/records.js";
import { stableId } from "../src/enrich/hash.js";
import { gzip, watchQueue } from "./support/queue.js";

let q: ReturnType<typeof watchQueue>;
beforeEach(() => {
  q = watchQueue();
});
afterEach(() => q.restore());
const records = () => q.records().map((r) => CdcRecord.parse(r));

const pgSource = (lsn: number, extra: Record<string, unknown> = {}) => ({
  version: "2.7.0.Final",
  connector: "postgresql",
  name: "shop",
  ts_ms: 1795600000000,
  snapshot: "false",
  db: "shop",
  schema: "public",
  table: "orders",
  txId: 771,
  lsn,
  ...extra,
});
const orderChange = (op: string, lsn: number, id = 1, status = "paid") => ({
  before: op === "c" || op === "r" ? null : { id, customer_id: 7, status: "pending", total_amount: "10.00", currency: "EUR" },
  after: op === "d" ? null : { id, customer_id: 7, status, total_amount: "10.00", currency: "EUR" },
  source: pgSource(lsn),
  op,
  ts_ms: 1795600000123,
  transaction: null,
});

const post = (body: string | Uint8Array, headers: Record<string, string> = {}) =>
  SELF.fetch("https://edge.test/v1/cdc", {
    method: "POST",
    headers: { authorization: "Bearer local_cdc_token", "content-type": "application/json", ...headers },
    body,
  });

describe("Debezium CDC", () => {
  it("accepts an unwrapped change and queues a record, field by field", async () => {
    const res = await post(JSON.stringify(orderChange("u", 4242)), { "x-request-id": "req-cdc" });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ success: true, accepted: 1, rejected: [], request_id: "req-cdc" });
    expect(q.calls()[0]![0]!.envelope.stream).toBe("cdc");
    const [r] = records();
    const position = "00000000000000004242:00000000000000004242";
    expect(r).toEqual({
      event_id: stableId("postgresql", "shop", "shop", "public", "orders", '{"id":1}', position, "u"),
      source_connector: "postgresql",
      source_name: "shop",
      source_db: "shop",
      source_schema: "public",
      source_table: "orders",
      op: "u",
      position,
      position_parts: { lsn: 4242, sequence: null, txId: 771 },
      ts_ms: 1795600000123,
      key: { id: 1 },
      key_string: '{"id":1}',
      ordering_key: 'shop.public.orders:{"id":1}',
      before: expect.objectContaining({ status: "pending" }),
      after: expect.objectContaining({ status: "paid" }),
      tx_id: "771",
      snapshot: false,
      event_ts: new Date(1795600000123).toISOString(),
      received_at: expect.any(String),
      request_id: "req-cdc",
    });
  });

  it("accepts the {schema, payload} wrapper, arrays and NDJSON, and gzip", async () => {
    const wrapped = { schema: { type: "struct", fields: [] }, payload: orderChange("c", 10, 2) };
    expect((await post(JSON.stringify(wrapped))).status).toBe(200);
    expect((await post(JSON.stringify([orderChange("c", 11, 3), orderChange("u", 12, 3)]))).status).toBe(200);
    const ndjson = [orderChange("c", 13, 4), wrapped, orderChange("d", 14, 4)].map((e) => JSON.stringify(e)).join("\n");
    const res = await post(ndjson, { "content-type": "application/x-ndjson" });
    expect(await res.json()).toMatchObject({ accepted: 3 });
    expect((await post(await gzip(ndjson), { "content-type": "application/x-ndjson", "content-encoding": "gzip" })).status).toBe(200);
    // NDJSON sent as application/json is recognised too.
    expect((await post(ndjson)).status).toBe(200);
    const ops = records().map((r) => `${r.op}:${(r.key as { id: number }).id}`);
    expect(ops).toEqual(["c:2", "c:3", "u:3", "c:4", "c:2", "d:4", "c:4", "c:2", "d:4", "c:4", "c:2", "d:4"]);
  });

  it("handles every op: snapshot reads, deletes, truncates, keyed and unkeyed tombstones", async () => {
    const truncate = { op: "t", before: null, after: null, source: pgSource(30), ts_ms: 1795600000999 };
    const keyed = { key: { schema: {}, payload: { id: 5 } }, value: { schema: {}, payload: orderChange("u", 31, 5) } };
    const keyedTombstone = { key: { id: 5 }, value: null, source: pgSource(33) };
    const body = [
      { ...orderChange("r", 29, 6), source: pgSource(29, { snapshot: "true" }) },
      orderChange("d", 32, 5),
      truncate,
      keyed,
      keyedTombstone,
      null,
      { key: { id: 5 }, value: null },
    ];
    const res = await post(JSON.stringify(body));
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ accepted: 5, rejected: [], tombstones: 2 });
    const rs = records();
    expect(rs.map((r) => r.op)).toEqual(["r", "d", "t", "u", "tombstone"]);
    expect(rs[0]!.snapshot).toBe(true);
    expect(rs[1]!.after).toBeNull();
    expect(rs[2]).toMatchObject({ key: {}, source_table: "orders", ordering_key: "shop.public.orders:{}" });
    expect(rs[3]!.key).toEqual({ id: 5 });
    expect(rs[4]).toMatchObject({ op: "tombstone", key: { id: 5 }, before: null, after: null });
  });

  it("positions sort in source order for Postgres LSNs, MySQL binlogs and SQL Server LSNs", async () => {
    const mysql = (file: string, pos: number, row = 0) => ({
      ...orderChange("u", 0),
      source: { connector: "mysql", name: "shop", db: "shop", table: "orders", file, pos, row, ts_ms: 1 },
    });
    const sqlserver = (commit: string, change: string, serial: number) => ({
      ...orderChange("u", 0),
      source: { connector: "sqlserver", name: "shop", db: "shop", schema: "dbo", table: "orders", commit_lsn: commit, change_lsn: change, event_serial_no: serial },
    });
    const ordered = [
      [orderChange("u", 9), orderChange("u", 10), orderChange("u", 100), orderChange("u", 9_000_000_000)],
      [mysql("mysql-bin.000009", 900), mysql("mysql-bin.000009", 901), mysql("mysql-bin.000009", 901, 1), mysql("mysql-bin.000010", 4)],
      [sqlserver("00000027:00000758:0005", "00000027:00000758:0003", 1), sqlserver("00000027:00000758:0005", "00000027:00000758:0003", 2), sqlserver("00000028:00000010:0001", "00000028:00000010:0001", 1)],
    ];
    for (const group of ordered) {
      q.spy.mockClear();
      const res = await post(JSON.stringify([...group].reverse()));
      expect(res.status).toBe(200);
      const positions = records().map((r) => r.position).reverse();
      expect([...positions].sort()).toEqual(positions);
      expect(new Set(positions).size).toBe(positions.length);
    }
  });

  it("reports bad events by index and keeps the good ones; 400 when none is valid", async () => {
    const res = await post(
      JSON.stringify([orderChange("c", 50, 8), { op: "x", source: pgSource(1) }, { op: "u", source: pgSource(2), before: null, after: null }, { op: "c", after: { name: "no id" }, source: pgSource(3) }, "nope"]),
    );
    expect(res.status).toBe(200);
    const body = await res.json<{ accepted: number; rejected: { index: number; error: string }[] }>();
    expect(body.accepted).toBe(1);
    expect(body.rejected.map((r) => r.index)).toEqual([1, 2, 3, 4]);
    expect(body.rejected[2]!.error).toMatch(/primary key/);
    const none = await post(JSON.stringify([{ op: "c" }]));
    expect(none.status).toBe(400);
    expect((await none.json<{ error: { code: string } }>()).error.code).toBe("invalid_event");
  });

  it("refuses a change whose ts_ms is not a time (found by schemathesis: 500 RangeError) by index, and keeps the good ones", async () => {
    const at = (ts: unknown, where: "top" | "source", lsn: number) => {
      const c = orderChange("c", lsn, lsn) as Record<string, unknown>;
      if (where === "top") c.ts_ms = ts;
      else {
        delete c.ts_ms;
        c.source = pgSource(lsn, { ts_ms: ts });
      }
      return c;
    };
    const res = await post(JSON.stringify([orderChange("c", 80, 11), at(3.104329776611568e16, "top", 81), at(-9007199254740992, "top", 82), at(9.9e76, "source", 83), at(1.5, "top", 84), at(Date.now() + 3 * 3600_000, "source", 85)]));
    expect(res.status).toBe(200);
    const body = await res.json<{ accepted: number; rejected: { index: number; error: string }[] }>();
    expect(body.accepted).toBe(1);
    expect(body.rejected.map((r) => r.index)).toEqual([1, 2, 3, 4, 5]);
    for (const r of body.rejected) expect(r.error).toMatch(/ts_ms/);
  });

  it("reports a bad NDJSON line by index", async () => {
    const res = await post([JSON.stringify(orderChange("c", 60, 9)), "{oops", JSON.stringify(orderChange("u", 61, 9))].join("\n"), { "content-type": "application/x-ndjson" });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ accepted: 2, rejected: [{ index: 1, error: expect.stringMatching(/line 2/) }] });
  });

  it("a replayed change has the same event_id (the pipeline stores it once) and gets 200", async () => {
    const body = JSON.stringify(orderChange("u", 70, 10));
    expect((await post(body)).status).toBe(200);
    expect((await post(body)).status).toBe(200);
    const [a, b] = records();
    expect(a!.event_id).toBe(b!.event_id);
  });

  it("401 without or with a wrong bearer token; 400 for malformed JSON", async () => {
    const body = JSON.stringify(orderChange("c", 1));
    const none = await SELF.fetch("https://edge.test/v1/cdc", { method: "POST", body });
    expect(none.status).toBe(401);
    expect((await post(body, { authorization: "Bearer nope" })).status).toBe(401);
    expect((await post("{")).status).toBe(400);
    expect(q.spy).not.toHaveBeenCalled();
  });
});
