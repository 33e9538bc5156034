/**
 * Personal data at rest: a workload carrying emails, phone numbers, full IPv4 and IPv6 addresses
 * and names, in every field the PII settings (wrangler.toml's local defaults: IP_MODE=truncate, the
 * default PII field lists of edge/src/enrich/pii-defaults.ts) say is hashed or truncated, sent to
 * the real local platform through every door: live SDK batches, a Shopify webhook, a CDC change,
 * and a bulk upload with one invalid line (a dead letter). Then everything at rest is scanned: every
 * table of the warehouse (DuckDB, through the operator API), every object the Cloud Storage
 * emulator holds (raw archive, landing, dead letters; gzip or not). None of the raw values may be
 * anywhere.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import { cdcRequest, segmentBatchRequest, shopifyRequest, type EdgeRequest } from "../../workload/send.js";
import { createPlatform, pubsubEmulatorAvailable, type Platform } from "./platform.js";
import { proofEvent } from "./load.js";
import type { SegmentEvent } from "../../workload/generate.js";

const EMAILS = ["Ada.Lovelace@example.org", "grace.hopper@example.net", "alan.turing@example.com", "katherine.j@example.co.uk", "bulk.person@example.io"];
const PHONES = ["+1 415 555 0134", "+44 20 7946 0958", "+33 1 70 36 39 50", "+1-202-555-0199"];
const IPV4 = ["203.0.113.77", "198.51.100.23"];
const IPV6 = ["2001:db8:85a3:1234:5678:8a2e:370:7334"];
const NAMES = ["Augusta Byron-King", "Grace Brewster", "Turingfield", "Kathmandu Johnsonia"];
const NEEDLES = [...EMAILS, ...PHONES, ...IPV4, ...IPV6, ...NAMES];

/** A proof event with fields the workload's SegmentEvent type leaves out (context.ip, traits). */
function event(tag: string, i: number, now: number, extra: Record<string, unknown>): SegmentEvent {
  const base = proofEvent(tag, i, now);
  const context = { ...base.context, ...(extra.context as object | undefined) };
  return { ...base, ...extra, context } as unknown as SegmentEvent;
}

function requests(tag: string): EdgeRequest[] {
  const now = Date.now();
  const events = [
    event(tag, 0, now, { type: "identify", event: undefined, userId: `${tag}-u1`, traits: { email: EMAILS[0], phone: PHONES[0], name: NAMES[0], address: { street: "12 St James's Square", postalCode: "SW1Y 4JH" } }, context: { ip: IPV4[0], traits: { email: EMAILS[0] } } }),
    event(tag, 1, now, { properties: { email: EMAILS[1], phone: PHONES[1], sku: "SKU-1" }, context: { ip: IPV6[0], traits: { firstName: "Grace", lastName: NAMES[1] } } }),
  ];
  const order = {
    id: `${tag}-o1`,
    name: `#${tag}`,
    email: EMAILS[2],
    phone: PHONES[2],
    browser_ip: IPV4[1],
    client_details: { browser_ip: IPV4[1] },
    total_price: "20.00",
    currency: "USD",
    created_at: new Date(now).toISOString(),
    customer: { email: EMAILS[2], phone: PHONES[2], first_name: "Alan", last_name: NAMES[2] },
    billing_address: { first_name: "Alan", last_name: NAMES[2], address1: "Bletchley Park", zip: "MK3 6EB", phone: PHONES[2], city: "Milton Keynes", country: "GB" },
  };
  const change = {
    before: null,
    after: { id: `${tag}-cust1`, email: EMAILS[3], phone: PHONES[3], first_name: "Katherine", last_name: NAMES[3], updated_at: new Date(now).toISOString() },
    source: { version: "2.5.0.Final", connector: "postgresql", name: "proof", db: "shop", schema: "public", table: "customers", lsn: now, txId: 1, ts_ms: now, snapshot: "false" },
    op: "c",
    ts_ms: now,
  };
  return [segmentBatchRequest(events), shopifyRequest("orders/create", `${tag}-w1`, order), cdcRequest([change])];
}

/** A bulk upload: one valid line and one the edge refuses (a dead letter), both carrying PII. */
function bulkUpload(tag: string): EdgeRequest {
  const now = Date.now();
  const valid = event(tag, 2, now, { type: "identify", event: undefined, userId: `${tag}-u2`, traits: { email: EMAILS[4], phone: PHONES[3] }, context: { ip: IPV4[0] } });
  const invalid = { type: "track", messageId: `${tag}-bad`, anonymousId: "a", traits: { email: EMAILS[4], phone: PHONES[3], name: NAMES[0] }, context: { ip: IPV4[0] } };
  const body = [valid, invalid].map((l) => JSON.stringify(l)).join("\n") + "\n";
  return { path: "/v1/bulk/events", headers: { "content-type": "application/x-ndjson", authorization: "Bearer local_bulk_token" }, body, items: 2 };
}

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : [p];
  });
}

/** The needles found in a text, case-insensitively (hashing lower-cases emails first). */
const found = (text: string) => NEEDLES.filter((n) => text.toLowerCase().includes(n.toLowerCase()));

describe.runIf(pubsubEmulatorAvailable())("personal data at rest", () => {
  let platform: Platform | null = null;
  afterAll(async () => {
    await platform?.dispose();
  });

  it("no raw email, phone, full IP or name in the warehouse, the archive or the dead letters", { timeout: 400_000 }, async () => {
    platform = await createPlatform({ name: "pii" });
    const p = platform;
    await p.start();
    const tag = `pii${Date.now().toString(36)}`;
    for (const req of [...requests(tag), bulkUpload(tag)]) {
      const res = await fetch(`${p.edgeUrl}${req.path}`, { method: "POST", headers: req.headers, body: req.body });
      expect(res.status, `${req.path}: ${await res.clone().text()}`).toBeLessThan(300);
    }
    // Wait until every record and the dead letter reached the warehouse.
    const count = async (sql: string) => Number((await p.query<{ n: number }>(sql))[0]?.n ?? 0);
    const deadline = Date.now() + 120_000;
    for (;;) {
      const [events, webhooks, cdc, dead] = await Promise.all([
        count(`SELECT count(*) AS n FROM raw.events WHERE message_id LIKE '${tag}-%'`),
        count(`SELECT count(*) AS n FROM raw.webhooks WHERE webhook_id LIKE '${tag}-%'`),
        count(`SELECT count(*) AS n FROM raw.cdc_changes WHERE source_table = 'customers'`),
        count(`SELECT count(*) AS n FROM ops.dead_letters`),
      ]);
      if (events >= 2 && webhooks >= 1 && cdc >= 1 && dead >= 1) break;
      if (Date.now() > deadline) throw new Error(`the workload did not reach the warehouse: events ${events}/2, webhooks ${webhooks}/1, cdc ${cdc}/1, dead letters ${dead}/1\n${p.log().slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 1000));
    }

    const leaks: string[] = [];
    const tables = await p.query<{ s: string; t: string }>(
      "SELECT table_schema AS s, table_name AS t FROM information_schema.tables WHERE table_schema NOT IN ('information_schema', 'pg_catalog', 'main') ORDER BY 1, 2",
    );
    expect(tables.map((t) => `${t.s}.${t.t}`)).toEqual(expect.arrayContaining(["raw.events", "raw.webhooks", "raw.cdc_changes", "ops.dead_letters"]));
    for (const { s, t } of tables) {
      const rows = await p.query<{ j: string }>(`SELECT to_json(x)::VARCHAR AS j FROM "${s}"."${t}" x`);
      for (const { j } of rows) for (const n of found(j)) leaks.push(`warehouse ${s}.${t}: ${n}`);
    }
    const objects = files(join(p.dataDir, "gcs"));
    expect(objects.length).toBeGreaterThan(0);
    for (const f of objects) {
      let buf = readFileSync(f);
      if (buf[0] === 0x1f && buf[1] === 0x8b) buf = gunzipSync(buf);
      for (const n of found(buf.toString("utf8"))) leaks.push(`object ${f.slice(p.dataDir.length)}: ${n}`);
    }
    expect([...new Set(leaks)]).toEqual([]);
  });
});
