/**
 * The edge's security findings (issue 16) as tests in workerd: CORS per path, credentials checked
 * before bodies are read, failed authentication rate-limited, configuration refused outside dev,
 * client headers ignored outside dev, nesting and pathological input answered with a 4xx, PII
 * pseudonymized, server-side libraries not judged bots, errors quoting at most a short excerpt.
 */
import { SELF, createExecutionContext, env } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CdcRecord } from "../../contracts/records.js";
import { createApp } from "../src/app.js";
import worker from "../src/index.js";
import { WRITE_KEY, basic, watchQueue } from "./support/queue.js";
import { tidelineSignature } from "./support/sign.js";

let q: ReturnType<typeof watchQueue>;
beforeEach(() => {
  q = watchQueue();
});
afterEach(() => q.restore());

const unique = () => `${Date.now()}-${Math.random().toString(36).slice(2)}`;
const nested = (depth: number) => "[".repeat(depth) + "]".repeat(depth);
const post = (path: string, body: BodyInit, headers: Record<string, string> = {}) =>
  SELF.fetch(`https://edge.test${path}`, { method: "POST", headers: { authorization: basic(WRITE_KEY), "content-type": "application/json", ...headers }, body });
const errorOf = async (res: Response) => (await res.json<{ error: { code: string; message: string; hint?: string }; rejected?: { index: number; error: string }[] }>());

describe("CORS only on the browser paths, without credentials", () => {
  const preflight = (path: string) =>
    SELF.fetch(`https://edge.test${path}`, {
      method: "OPTIONS",
      headers: { origin: "https://evil.example", "access-control-request-method": "POST", "access-control-request-headers": "content-type,authorization" },
    });

  it("Segment endpoints and aliases answer preflights for any origin, never with credentials", async () => {
    for (const path of ["/v1/batch", "/v1/b", "/v1/t", "/v1/track", "/v1/page", "/v1/p", "/v1/identify", "/v1/i", "/v1/a"]) {
      const res = await preflight(path);
      expect(res.status, path).toBe(204);
      expect(res.headers.get("access-control-allow-origin"), path).toBe("*");
      expect(res.headers.get("access-control-allow-credentials"), path).toBeNull();
      expect(res.headers.get("access-control-allow-headers")?.toLowerCase()).toContain("authorization");
    }
    const beacon = await post("/v1/t", JSON.stringify({ event: "E", anonymousId: "a" }), { origin: "https://shop.example.com" });
    expect(beacon.headers.get("access-control-allow-origin")).toBe("*");
    expect(beacon.headers.get("access-control-allow-credentials")).toBeNull();
  });

  it("webhooks, CDC and bulk uploads answer no browser: no preflight, no CORS headers", async () => {
    for (const path of ["/v1/cdc", "/v1/webhooks/shopify", "/v1/webhooks/crm", "/v1/bulk/events", "/v1/openapi.json"]) {
      const res = await preflight(path);
      expect(res.status, path).toBeGreaterThanOrEqual(400);
      expect(res.headers.get("access-control-allow-origin"), path).toBeNull();
    }
    const cdc = await SELF.fetch("https://edge.test/v1/cdc", { method: "POST", headers: { origin: "https://evil.example", authorization: "Bearer local_cdc_token" }, body: "{}" });
    expect(cdc.headers.get("access-control-allow-origin")).toBeNull();
  });
});

describe("credentials in headers are checked before the body is read", () => {
  /** A body that records whether anyone read it. */
  const watchedBody = () => {
    const seen = { read: false };
    const body = new ReadableStream<Uint8Array>(
      {
        pull(c) {
          seen.read = true;
          c.enqueue(new TextEncoder().encode(JSON.stringify({ event: "E", anonymousId: "a" })));
          c.close();
        },
      },
      { highWaterMark: 0 },
    );
    return { seen, body };
  };
  const call = (path: string, headers: Record<string, string>, body: ReadableStream<Uint8Array>) =>
    createApp().fetch(new Request(`https://edge.test${path}`, { method: "POST", headers, body, duplex: "half" } as RequestInit), env, createExecutionContext());

  it("a wrong write key (Basic), CDC token or bulk token is refused without reading the body", async () => {
    for (const [path, authorization] of [
      ["/v1/batch", basic("not-a-key")],
      ["/v1/t", basic("not-a-key")],
      ["/v1/cdc", "Bearer not-the-token"],
      ["/v1/bulk/events", "Bearer not-a-bulk-token-at-all"],
    ] as const) {
      const { seen, body } = watchedBody();
      const res = await call(path, { authorization }, body);
      expect(res.status, path).toBe(401);
      expect(seen.read, path).toBe(false);
    }
  });

  it("an unsigned webhook is refused without reading the body", async () => {
    for (const path of ["/v1/webhooks/shopify", "/v1/webhooks/hubspot", "/v1/webhooks/crm"]) {
      const { seen, body } = watchedBody();
      const res = await call(path, {}, body);
      expect(res.status, path).toBe(401);
      expect(seen.read, path).toBe(false);
    }
  });

  it("the write key may still travel in the body (sendBeacon), read within the size limit", async () => {
    const { seen, body } = watchedBody();
    const res = await call("/v1/t", { "content-type": "text/plain" }, body);
    expect(seen.read).toBe(true);
    expect(res.status).toBe(401);
    expect((await errorOf(res)).error.hint).toMatch(/writeKey/);
  });
});

describe("failed authentication is rate-limited per client IP", () => {
  it("after 30 failures in a minute the IP gets 429 with Retry-After, also with a good key; other IPs are unaffected", async () => {
    // The binding counts in fixed 60 s windows: start early in one.
    if (Date.now() % 60_000 > 40_000) await new Promise((r) => setTimeout(r, 60_000 - (Date.now() % 60_000) + 50));
    const ip = `192.0.2.${10 + Math.floor(Math.random() * 200)}`;
    const send = (key: string, from = ip) =>
      worker.fetch(
        new Request("https://edge.test/v1/track", { method: "POST", headers: { authorization: basic(key), "cf-connecting-ip": from }, body: JSON.stringify({ event: "E", anonymousId: "a" }) }),
        env as never,
        createExecutionContext(),
      );
    const statuses: number[] = [];
    for (let i = 0; i < 31; i++) statuses.push((await send(`guess-${i}`)).status);
    expect(statuses.slice(0, 30).every((s) => s === 401)).toBe(true);
    expect(statuses[30]).toBe(429);
    const blocked = await send(WRITE_KEY);
    expect(blocked.status).toBe(429);
    expect(blocked.headers.get("retry-after")).toBe("60");
    const body = await errorOf(blocked);
    expect(body.error.code).toBe("rate_limited");
    expect(body.error.message).toMatch(/failed authentications/);
    expect((await send(WRITE_KEY, "198.51.100.99")).status).toBe(200);
  }, 90_000);
});

describe("configuration outside dev", () => {
  const REAL = {
    WRITE_KEYS: '{"wk_live_8f2b0c7d":"web"}',
    BULK_TOKENS: "",
    SHOPIFY_SECRET: "shpss_live_1",
    HUBSPOT_SECRET: "hs_live_1",
    WEBHOOK_SECRETS: '{"crm":"crm_live_1"}',
    CDC_TOKEN: "cdc_live_1",
    IP_HASH_KEY: "ip_live_1",
    PII_HASH_KEY: "pii_live_1",
  };
  const call = (vars: Record<string, string>, path = "/v1/track", headers: Record<string, string> = {}) =>
    createApp().fetch(
      new Request(`https://edge.test${path}`, { method: "POST", headers: { authorization: basic("wk_live_8f2b0c7d"), ...headers }, body: JSON.stringify({ event: "E", anonymousId: "a", context: { page: { url: "https://shop.example.com/" } } }) }),
      { ...env, ...vars },
      createExecutionContext(),
    );

  it("local_* secrets are refused in staging and production: the first request is a 500 that names them", async () => {
    for (const environment of ["staging", "production"]) {
      const res = await call({ ENVIRONMENT: environment });
      expect(res.status).toBe(500);
      const { error } = await errorOf(res);
      expect(error.code).toBe("misconfigured");
      expect(error.message).toMatch(/WRITE_KEYS, BULK_TOKENS, WEBHOOK_SECRETS, SHOPIFY_SECRET, HUBSPOT_SECRET, CDC_TOKEN, IP_HASH_KEY, PII_HASH_KEY hold a local development value/);
      expect(error.message).not.toContain("local_dev_write_key");
      expect(q.spy).not.toHaveBeenCalled();
      // Also the health check fails, so a deploy with them is noticed at once.
      expect((await createApp().fetch(new Request("https://edge.test/healthz"), { ...env, ENVIRONMENT: environment }, createExecutionContext())).status).toBe(500);
    }
  });

  it("an unknown ENVIRONMENT is refused rather than taken for dev; real secrets in production work", async () => {
    const typo = await call({ ...REAL, ENVIRONMENT: "prod" });
    expect(typo.status).toBe(500);
    expect((await errorOf(typo)).error.message).toMatch(/ENVIRONMENT must be one of dev, staging, production/);
    const ok = await call({ ...REAL, ENVIRONMENT: "production" }, "/v1/track", { "cf-connecting-ip": "203.0.113.7" });
    expect(ok.status).toBe(200);
  });

  it("in production the client IP and country come only from Cloudflare, never from X-Real-IP or CF-IPCountry", async () => {
    await call({ ...REAL, ENVIRONMENT: "production", IP_MODE: "truncate" }, "/v1/track", { "x-real-ip": "198.51.100.50", "cf-ipcountry": "KP" });
    expect(q.records()[0]).toMatchObject({ ip: null, geo_country: null, geo_source: "none" });
    await call({ ...REAL, ENVIRONMENT: "production", IP_MODE: "truncate" }, "/v1/track", { "cf-connecting-ip": "203.0.113.7", "x-real-ip": "198.51.100.50" });
    expect(q.records()[1]).toMatchObject({ ip: "203.0.113.0" });
    // Locally a proxy's headers are believed.
    await post("/v1/track", JSON.stringify({ event: "E", anonymousId: "a" }), { "x-real-ip": "198.51.100.50", "cf-ipcountry": "DE" });
    expect(q.records()[2]).toMatchObject({ ip: "198.51.100.0", geo_country: "DE", geo_source: "header" });
  });

  it("a bulk token that is also a public write key is refused", async () => {
    const res = await call({ ...REAL, ENVIRONMENT: "production", BULK_TOKENS: '{"wk_live_8f2b0c7d":{"source":"web","streams":["events"]}}' });
    expect(res.status).toBe(500);
    expect((await errorOf(res)).error.message).toMatch(/also a write key/);
  });
});

describe("nesting and pathological input get a 4xx, never a 5xx", () => {
  it("JSON nested 20,000 deep: rejected by index in a batch; 400 for a single call (15,000 deep: a call is at most 32 KB)", async () => {
    const one = await post("/v1/t", `{"event":"E","anonymousId":"a","properties":{"x":${nested(15_000)}}}`);
    expect(one.status).toBe(400);
    expect((await errorOf(one)).error.message).toMatch(/deeper than 64 levels/);
    const deep = `{"event":"E","anonymousId":"a","properties":{"x":${nested(20_000)}}}`;
    const batch = await post("/v1/batch", `{"batch":[{"type":"track","event":"ok","anonymousId":"a"},${deep.replace("{", '{"type":"track",')}]}`);
    expect(batch.status).toBe(200);
    expect(await batch.json()).toMatchObject({ accepted: 1, rejected: [{ index: 1, error: expect.stringMatching(/deeper than 64 levels/) }] });
    const context = await post("/v1/batch", `{"context":{"x":${nested(20_000)}},"batch":[{"type":"track","event":"ok","anonymousId":"a"}]}`);
    expect(context.status).toBe(400);
  });

  it("JSON nested 20,000 deep in a webhook or a change event: 400", async () => {
    const cdc = await SELF.fetch("https://edge.test/v1/cdc", {
      method: "POST",
      headers: { authorization: "Bearer local_cdc_token" },
      body: `{"op":"c","after":{"id":1,"x":${nested(20_000)}},"source":{"connector":"postgresql","table":"orders","lsn":1}}`,
    });
    expect(cdc.status).toBe(400);
    expect((await errorOf(cdc)).rejected![0]!.error).toMatch(/deeper than 64 levels/);
    const body = `{"type":"x","n":"${unique()}","deep":${nested(20_000)}}`;
    const wh = await SELF.fetch("https://edge.test/v1/webhooks/crm", { method: "POST", headers: { "x-tideline-signature": await tidelineSignature("local_webhook_secret", body) }, body });
    expect(wh.status).toBe(400);
  });

  it("a referrer of a 2 KB host is classified unknown, and the event accepted", async () => {
    const host = Array.from({ length: 1100 }, () => "a").join(".");
    const res = await post("/v1/t", JSON.stringify({ event: "E", anonymousId: "a", context: { page: { url: "https://shop.example.com/", referrer: `https://${host}.com/` } } }));
    expect(res.status).toBe(200);
    expect(q.records()[0]).toMatchObject({ referrer_host: null, referrer_medium: "unknown" });
  });

  it("errors quote at most a short excerpt of the input", async () => {
    const secretish = `${"s3cr3t".repeat(3000)}`;
    const responses = [
      await post("/v1/batch", `{"batch": [ ${secretish}`),
      await post("/v1/t", `${secretish}`, { "content-type": "application/json" }),
      await SELF.fetch("https://edge.test/v1/cdc", { method: "POST", headers: { authorization: "Bearer local_cdc_token" }, body: `{"op": ${secretish}` }),
      await SELF.fetch(`https://edge.test/v1/bulk/${secretish.slice(0, 500)}`, { method: "POST", body: "x" }),
      await SELF.fetch(`https://edge.test/v1/webhooks/${"x".repeat(300)}`, { method: "POST", body: "x" }),
      await post("/v1/batch", "x", { "content-encoding": secretish.slice(0, 2000) }),
    ];
    for (const res of responses) {
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
      const text = await res.text();
      expect(text.length).toBeLessThan(1000);
      expect(text).not.toContain("s3cr3t".repeat(30));
    }
  });
});

describe("PII is pseudonymized by default", () => {
  const hashed = /^h_[0-9a-f]{32}$/;

  it("user ids that are emails, names, phones and addresses in traits", async () => {
    await post(
      "/v1/batch",
      JSON.stringify({
        batch: [
          {
            type: "identify",
            userId: "Jane.Doe@Example.com",
            traits: { email: "jane.doe@example.com", name: "Jane Doe", firstName: "Jane", lastName: "Doe", phone: "+1 555 0100", plan: "pro", address: { street: "1 Main St", postalCode: "94105", city: "San Francisco", country: "US" } },
            context: { traits: { first_name: "Jane", last_name: "Doe" } },
          },
          { type: "alias", userId: "user_42", previousId: "jane.doe@example.com" },
          { type: "track", event: "E", userId: "user_42" },
        ],
      }),
    );
    const [identify, alias, track] = q.records();
    expect(identify!.user_id).toMatch(hashed);
    const traits = identify!.traits as Record<string, unknown> & { address: Record<string, unknown> };
    expect(identify!.user_id).toBe(traits.email);
    for (const k of ["email", "name", "firstName", "lastName", "phone"]) expect(traits[k], k).toMatch(hashed);
    expect(traits.address.street).toMatch(hashed);
    expect(traits.address.postalCode).toMatch(hashed);
    expect(traits).toMatchObject({ plan: "pro", address: { city: "San Francisco", country: "US" } });
    expect((identify!.context as { traits: Record<string, unknown> }).traits).toMatchObject({ first_name: expect.stringMatching(hashed), last_name: expect.stringMatching(hashed) });
    expect(alias!.previous_id).toBe(identify!.user_id);
    expect(track!.user_id).toBe("user_42");
    expect(JSON.stringify(q.wireRecords())).not.toMatch(/jane|doe|555 0100|Main St|94105/i);
  });

  it("page and referrer URLs keep only utm_* and click ids; click ids go when consent is withheld", async () => {
    const page = "https://shop.example.com/checkout?email=jane%40example.com&utm_source=nl&utm_medium=email&gclid=G-123&session=abc#token=t";
    const referrer = "https://www.google.com/search?q=jane+doe+address&utm_campaign=x";
    const event = (consent: boolean) => ({
      type: "page",
      anonymousId: "a",
      name: "Checkout",
      properties: { url: page, referrer, search: "?email=jane%40example.com&utm_source=nl&gclid=G-123", title: "Checkout" },
      context: { page: { url: page, referrer, search: "?email=jane%40example.com&utm_source=nl&gclid=G-123" }, consent: { categoryPreferences: { Analytics: consent } } },
    });
    await post("/v1/batch", JSON.stringify({ batch: [event(true), event(false)] }));
    const [given, withheld] = q.records();
    expect(given).toMatchObject({
      page_url: "https://shop.example.com/checkout?utm_source=nl&utm_medium=email&gclid=G-123",
      referrer_url: "https://www.google.com/search?utm_campaign=x",
      campaign_click_id: "gclid:G-123",
      properties: { url: "https://shop.example.com/checkout?utm_source=nl&utm_medium=email&gclid=G-123", referrer: "https://www.google.com/search?utm_campaign=x", search: "?utm_source=nl&gclid=G-123", title: "Checkout" },
      context: { page: { search: "?utm_source=nl&gclid=G-123" } },
    });
    expect(withheld).toMatchObject({
      page_url: "https://shop.example.com/checkout?utm_source=nl&utm_medium=email",
      campaign_click_id: null,
      properties: { url: "https://shop.example.com/checkout?utm_source=nl&utm_medium=email", search: "?utm_source=nl" },
      context: { page: { search: "?utm_source=nl" } },
    });
    expect(JSON.stringify(q.wireRecords())).not.toMatch(/jane|session=|token=|q=/);
    expect(JSON.stringify(withheld)).not.toContain("G-123");
  });

  it("CDC rows: the configured columns of the e-commerce tables", async () => {
    const res = await SELF.fetch("https://edge.test/v1/cdc", {
      method: "POST",
      headers: { authorization: "Bearer local_cdc_token" },
      body: JSON.stringify({
        op: "u",
        before: { id: 5, email: "old@example.com", first_name: "Ann", last_name: "Lee", country: "DE" },
        after: { id: 5, email: "New@Example.com", first_name: "Ann", last_name: "Lee", country: "DE" },
        source: { connector: "postgresql", name: "shop", db: "shop", schema: "public", table: "customers", lsn: Date.now() },
      }),
    });
    expect(res.status).toBe(200);
    const r = CdcRecord.parse(q.records()[0]);
    for (const row of [r.before, r.after] as Record<string, unknown>[]) {
      for (const k of ["email", "first_name", "last_name"]) expect(row[k], k).toMatch(hashed);
      expect(row).toMatchObject({ id: 5, country: "DE" });
    }
    expect(JSON.stringify(r)).not.toMatch(/example\.com|Ann|Lee/);
  });
});

describe("CDC positions are bounded per connector", () => {
  const change = (source: Record<string, unknown>) => ({ op: "u", after: { id: 1, status: "refunded", total_amount: 0.01 }, source: { name: "shop", db: "shop", table: "orders", ...source } });
  it("refuses positions no connector produces: an LSN over 64 bits, a malformed SQL Server LSN, a binlog position too long, a time far ahead", async () => {
    const res = await SELF.fetch("https://edge.test/v1/cdc", {
      method: "POST",
      headers: { authorization: "Bearer local_cdc_token" },
      body: JSON.stringify([
        change({ connector: "postgresql", lsn: "9".repeat(40) }),
        change({ connector: "postgresql", lsn: "18446744073709551616" }),
        change({ connector: "sqlserver", commit_lsn: "ffffffffffffffffffffffffff", change_lsn: "0" }),
        change({ connector: "mysql", file: "mysql-bin.000001", pos: 1e25 }),
        change({ connector: "mongodb", ord: 1, ts_ms: Date.now() + 7 * 86_400_000 }),
        change({ connector: "postgresql", lsn: "18446744073709551615" }),
      ]),
    });
    expect(res.status).toBe(200);
    const body = await res.json<{ accepted: number; rejected: { index: number; error: string }[] }>();
    expect(body.accepted).toBe(1);
    expect(body.rejected.map((r) => r.index)).toEqual([0, 1, 2, 3, 4]);
    for (const r of body.rejected) expect(r.error).toMatch(/source position/);
  });
});

describe("server-side events", () => {
  it("events from server libraries without a client user agent are not bots; a crawler still is", async () => {
    const send = (ua: string, event: Record<string, unknown>) => post("/v1/track", JSON.stringify({ event: "Order Completed", userId: "u1", messageId: unique(), ...event }), { "user-agent": ua });
    await send("analytics-node-next/latest", { context: { library: { name: "@segment/analytics-node", version: "3.1.0" } } });
    await send("analytics-python/2.3.0", { context: { library: { name: "analytics-python" } } });
    await send("Go-http-client/1.1", {});
    await send("curl/8.5.0", {});
    await send("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", { context: { library: { name: "analytics.js" } } });
    await send("analytics-node-next/latest", { context: { userAgent: "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)" } });
    expect(q.records().map((r) => [r.is_bot, r.is_server_side])).toEqual([
      [false, true],
      [false, true],
      [false, true],
      [false, true],
      [true, false],
      [true, false],
    ]);
  });
});
