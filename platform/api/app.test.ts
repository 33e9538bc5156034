/**
 * The operator API app without a network or a pipeline: who may call it (issue 16), what it
 * accepts (issue 14) and how it answers. Requests go through app.request with the headers a
 * browser or the CLI would send.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createOperatorApi } from "./app.js";
import { MAX_COMMAND_BODY_BYTES, MAX_QUERY_BODY_BYTES } from "./limits.js";
import { fakePorts, type FakePorts } from "./testing/fake-ports.js";

const PORT = 3999; // only named in Host headers: nothing listens in these tests
const TOKEN = "test-token-0123456789";
const ORIGIN = `http://127.0.0.1:${PORT}`;
let ports: FakePorts;
let app: ReturnType<typeof createOperatorApi>;

beforeAll(async () => {
  ports = await fakePorts();
  app = createOperatorApi({ ports, token: TOKEN, tokenFile: ".data/operator-api.token", port: () => PORT, queryTimeoutMs: 1_000 });
});
afterAll(() => ports.close());

/** A request as the CLI sends it: our Host, the bearer token, JSON. */
function call(path: string, init: { method?: string; body?: string | ReadableStream; headers?: Record<string, string> } = {}) {
  const headers = { host: `127.0.0.1:${PORT}`, authorization: `Bearer ${TOKEN}`, ...(init.body !== undefined ? { "content-type": "application/json" } : {}), ...init.headers };
  for (const [k, v] of Object.entries(headers)) if (v === "") delete (headers as Record<string, string>)[k];
  return app.request(path, { method: init.method ?? (init.body !== undefined ? "POST" : "GET"), headers, ...(init.body !== undefined ? { body: init.body } : {}), ...(init.body instanceof ReadableStream ? { duplex: "half" } : {}) } as RequestInit);
}
const errorOf = async (r: Response) => ((await r.json()) as { error: { code: string; message: string; hint?: string } }).error;
const query = (sql: string) => call("/api/query", { body: JSON.stringify({ sql }) });

describe("who may call the operator API", () => {
  it("answers the CLI's request: our Host, the token, JSON", async () => {
    const r = await query("SELECT count(*) AS n FROM raw.events");
    expect(r.status).toBe(200);
    expect(await r.json()).toMatchObject({ rows: [{ n: 3 }], truncated: false, warehouse: "memory" });
  });

  it("refuses a foreign Host (DNS rebinding), also without a token check to pass", async () => {
    for (const host of ["attacker.example:3999", "127.0.0.1.nip.io:3999", `127.0.0.1:${PORT + 1}`, "127.0.0.1", "[::1]:3999"]) {
      const r = await call("/api/pipeline", { headers: { host } });
      expect(r.status, host).toBe(403);
      expect((await errorOf(r)).code).toBe("forbidden_host");
    }
    expect((await call("/healthz", { headers: { host: "rebound.example:3999" } })).status).toBe(403);
    expect((await call("/healthz", { headers: { host: `localhost:${PORT}` } })).status).toBe(200);
  });

  it("refuses a foreign Origin, and grants no CORS preflight", async () => {
    const r = await call("/api/backfill", { body: JSON.stringify({ from: "2026-01-01", to: "2026-01-01" }), headers: { origin: "https://evil.example" } });
    expect(r.status).toBe(403);
    expect((await errorOf(r)).code).toBe("forbidden_origin");
    expect(r.headers.get("access-control-allow-origin")).toBeNull();
    // another local port is another origin (and the same site, so SameSite cookies would go along)
    expect((await call("/api/pipeline", { headers: { origin: "http://localhost:8080" } })).status).toBe(403);
    expect((await call("/api/pipeline", { headers: { origin: "null" } })).status).toBe(403);
    const preflight = await call("/api/query", {
      method: "OPTIONS",
      headers: { origin: "https://evil.example", "access-control-request-method": "POST", "access-control-request-headers": "content-type", authorization: "" },
    });
    expect(preflight.status).toBe(403);
    expect([...preflight.headers.keys()].filter((k) => k.startsWith("access-control-"))).toEqual([]);
    expect(ports.calls.backfill).toEqual([]);
    expect((await call("/api/pipeline", { headers: { origin: ORIGIN } })).status).toBe(200);
  });

  it("refuses browser requests that Sec-Fetch-Site marks as from another site", async () => {
    for (const site of ["cross-site", "same-site"]) {
      const r = await call("/api/pipeline", { headers: { "sec-fetch-site": site } });
      expect(r.status, site).toBe(403);
    }
    expect((await call("/api/pipeline", { headers: { "sec-fetch-site": "same-origin" } })).status).toBe(200);
  });

  it("needs this run's token on /api/*: missing or wrong is a 401 that says where the token is", async () => {
    const missing = await call("/api/pipeline", { headers: { authorization: "" } });
    expect(missing.status).toBe(401);
    const e = await errorOf(missing);
    expect(e).toMatchObject({ code: "unauthorized", message: "the operator API needs this run's token" });
    expect(e.hint).toContain(".data/operator-api.token");
    expect((await call("/api/pipeline", { headers: { authorization: "Bearer not-the-token" } })).status).toBe(401);
    expect((await call("/api/pipeline", { headers: { authorization: `Bearer ${TOKEN}x` } })).status).toBe(401);
    expect((await call("/api/query", { body: JSON.stringify({ sql: "SELECT 1" }), headers: { authorization: "" } })).status).toBe(401);
    expect((await call("/api/openapi.json", { headers: { authorization: "" } })).status).toBe(401);
    expect((await call("/healthz", { headers: { authorization: "" } })).status).toBe(200);
  });

  it("gives the page at / an HttpOnly SameSite=Strict cookie that its own requests use instead of the header", async () => {
    const page = await call("/", { headers: { authorization: "" } });
    expect(page.status).toBe(200);
    const cookie = page.headers.get("set-cookie")!;
    expect(cookie).toMatch(/^tideline_operator=[^;]+;/);
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Strict/i);
    expect(cookie).toMatch(/Path=\/api/);
    expect(page.headers.get("cache-control")).toBe("no-store");
    const pair = cookie.split(";")[0]!;
    const r = await call("/api/query", { body: JSON.stringify({ sql: "SELECT 42 AS x" }), headers: { authorization: "", cookie: pair, origin: ORIGIN, "sec-fetch-site": "same-origin" } });
    expect(r.status).toBe(200);
    expect((await r.json()) as object).toMatchObject({ rows: [{ x: 42 }] });
    expect((await call("/api/pipeline", { headers: { authorization: "", cookie: "tideline_operator=guess" } })).status).toBe(401);
  });

  it("refuses a POST that is not application/json with 415 (a form cannot send JSON)", async () => {
    for (const type of ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/jsonx", ""]) {
      const r = await call("/api/backfill", { body: JSON.stringify({ from: "2026-01-01", to: "2026-01-01" }), headers: { "content-type": type } });
      expect(r.status, type).toBe(415);
      expect((await errorOf(r)).code).toBe("unsupported_media_type");
    }
    expect(ports.calls.backfill).toEqual([]);
    expect((await call("/api/query", { body: JSON.stringify({ sql: "SELECT 1" }), headers: { "content-type": "application/json; charset=utf-8" } })).status).toBe(200);
  });
});

describe("what the operator API accepts", () => {
  it("names the field of an invalid body in a 400", async () => {
    const cases: [string, object, RegExp][] = [
      ["/api/query", {}, /sql: /],
      ["/api/query", { sql: "  " }, /sql: must be one SQL statement, not empty/],
      ["/api/query", { sql: "SELECT 1", maxRows: 0 }, /maxRows: /],
      ["/api/query", { sql: "SELECT 1", extra: 1 }, /body: .*extra/],
      ["/api/backfill", { from: "2026-02-30", to: "2026-03-01" }, /from: is not a calendar date/],
      ["/api/backfill", { from: "2026-03-02", to: "2026-03-01" }, /to: must not be before from/],
      ["/api/backfill", { from: "2026-03-01", to: "2026-03-01", streams: ["events", "clicks"] }, /streams\.1: /],
      ["/api/backfill", { from: "2026-03-01", to: "2026-03-01", streams: "events" }, /streams: /],
      ["/api/models/run", { fullRefresh: "yes" }, /fullRefresh: /],
    ];
    for (const [path, body, field] of cases) {
      const r = await call(path, { body: JSON.stringify(body) });
      expect(r.status, JSON.stringify(body)).toBe(400);
      const e = await errorOf(r);
      expect(e.code).toBe("invalid_request");
      expect(e.message, JSON.stringify(body)).toMatch(field);
    }
    expect(ports.calls.backfill).toEqual([]);
    expect(ports.calls.models).toEqual([]);
  });

  it("answers malformed JSON with a 400", async () => {
    const r = await call("/api/query", { body: '{"sql": "SELECT 1"' });
    expect(r.status).toBe(400);
    expect((await errorOf(r)).code).toBe("malformed_json");
  });

  it("refuses an oversize body with 413, announced or streamed", async () => {
    const big = JSON.stringify({ sql: `SELECT '${"x".repeat(MAX_QUERY_BODY_BYTES)}'` });
    const announced = await call("/api/query", { body: big });
    expect(announced.status).toBe(413);
    expect((await errorOf(announced)).code).toBe("payload_too_large");
    const chunked = new ReadableStream({
      start(c) {
        for (let i = 0; i < 20; i++) c.enqueue(new TextEncoder().encode("x".repeat(MAX_COMMAND_BODY_BYTES / 10)));
        c.close();
      },
    });
    const streamed = await call("/api/models/run", { body: chunked });
    expect(streamed.status).toBe(413);
    expect(ports.calls.models).toEqual([]);
    const commandTooBig = await call("/api/backfill", { body: JSON.stringify({ from: "2026-01-01", to: "2026-01-01", pad: "x".repeat(MAX_COMMAND_BODY_BYTES) }) });
    expect(commandTooBig.status).toBe(413);
  });
});

describe("queries", () => {
  it("stops a query at its deadline with a 408 that says what to do", async () => {
    const r = await query("SELECT count(*) FROM range(1000000) a, range(1000000) b");
    expect(r.status).toBe(408);
    const e = await errorOf(r);
    expect(e).toMatchObject({ code: "timeout", message: "the query ran longer than 1 s and was stopped" });
    expect(e.hint).toMatch(/narrow it/);
    expect((await query("SELECT 1 AS ok")).status).toBe(200);
  });

  it("caps the rows and says so", async () => {
    const r = (await (await query("SELECT * FROM range(25000)")).json()) as { rows: unknown[]; truncated: boolean; notice: string };
    expect(r.rows).toHaveLength(10_000);
    expect(r.truncated).toBe(true);
    expect(r.notice).toMatch(/only the first 10000 rows/);
    const few = (await (await call("/api/query", { body: JSON.stringify({ sql: "SELECT * FROM range(50)", maxRows: 7 }) })).json()) as { rows: unknown[]; truncated: boolean };
    expect(few).toMatchObject({ truncated: true });
    expect(few.rows).toHaveLength(7);
  });

  it("refuses writes and explains SQL errors with 400", async () => {
    const write = await query("DROP TABLE raw.events");
    expect(write.status).toBe(400);
    expect(await errorOf(write)).toMatchObject({ code: "rejected", message: expect.stringMatching(/DROP statement/) });
    const bad = await query("SELEC 1");
    expect(bad.status).toBe(400);
    expect((await errorOf(bad)).code).toBe("sql");
    const model = await query("SELECT * FROM marts.daily_kpis");
    expect(model.status).toBe(400);
    expect(await errorOf(model)).toMatchObject({ code: "not_built", hint: expect.stringMatching(/npx tideline models run/) });
  });
});

describe("streams, status, errors and the document", () => {
  it("streams backfill progress as NDJSON, ending with the result", async () => {
    const r = await call("/api/backfill", { body: JSON.stringify({ from: "2026-03-01", to: "2026-03-02", streams: ["events", "dead-letters"] }) });
    expect(r.headers.get("content-type")).toMatch(/application\/x-ndjson/);
    const lines = (await r.text()).trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => Object.keys(l)[0])).toEqual(["progress", "progress", "done"]);
    expect(ports.calls.backfill.at(-1)).toEqual({ from: "2026-03-01", to: "2026-03-02", streams: ["events", "dead-letters"] });
  });

  it("reports a failure after the stream started as its last line", async () => {
    const failing = await fakePorts({
      backfill: async (_req, progress) => {
        progress({ objectsDone: 0, objectsTotal: 1, stats: { messages: 0, duplicates: 0, loaded: 0, late: 0, deadLettered: 0, cdcIgnored: 0 } });
        throw new Error("archive unreachable");
      },
    });
    try {
      const a = createOperatorApi({ ports: failing, token: TOKEN, tokenFile: "t", port: () => PORT, queryTimeoutMs: 1_000 });
      const r = await a.request("/api/backfill", { method: "POST", headers: { host: `127.0.0.1:${PORT}`, authorization: `Bearer ${TOKEN}`, "content-type": "application/json" }, body: JSON.stringify({ from: "2026-03-01", to: "2026-03-01" }) });
      const lines = (await r.text()).trim().split("\n").map((l) => JSON.parse(l) as { error?: { code: string; message: string } });
      expect(lines.at(-1)!.error).toMatchObject({ code: "internal", message: expect.stringContaining("archive unreachable") });
      expect(JSON.stringify(lines)).not.toMatch(/\bat .*\.ts:\d+/);
    } finally {
      failing.close();
    }
  });

  it("answers unknown routes with a coded 404", async () => {
    const r = await call("/api/nope");
    expect(r.status).toBe(404);
    expect((await errorOf(r)).code).toBe("not_found");
  });

  it("serves an OpenAPI document of every route, generated from the Zod schemas", async () => {
    const doc = (await (await call("/api/openapi.json")).json()) as { openapi: string; paths: Record<string, Record<string, { requestBody?: unknown }>>; components: { schemas: Record<string, { properties?: Record<string, unknown> }> } };
    expect(doc.openapi).toBe("3.1.0");
    expect(Object.keys(doc.paths).sort()).toEqual(["/api/backfill", "/api/models/run", "/api/pipeline", "/api/query", "/api/reconcile", "/healthz"]);
    expect(doc.paths["/api/backfill"]!.post!.requestBody).toBeDefined();
    expect(Object.keys(doc.components.schemas.QueryRequest!.properties!)).toEqual(["sql", "maxRows"]);
    expect(JSON.stringify(doc.components.schemas.BackfillRequest)).toContain("dead-letters");
  });
});
