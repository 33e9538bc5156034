import { describe, expect, it } from "vitest";
import { anonymizeIp, truncateIp } from "./ip.js";
import { classifyReferrer, referrerLookups } from "./referrer.js";
import { campaignFrom } from "./campaign.js";
import { eventTime } from "./time.js";
import { keptUrl, parseUrl } from "./url.js";
import { looksLikeEmail, pseudonymize, pseudonymizeValue } from "./pii.js";
import { judgeAgent } from "./user-agent.js";
import { jsonLimitError } from "../lib/json-limits.js";
import { MAX_HOST_LABELS } from "../../../contracts/limits.js";
import { consentOf } from "./consent.js";
import { packRecords, utf8Length } from "../queue/producer.js";

describe("IP anonymization", () => {
  it.each([
    ["203.0.113.77", "203.0.113.0"],
    ["2001:db8:85a3:8d3:1319:8a2e:370:7348", "2001:db8:85a3::"],
    ["2001:db8::1", "2001:db8:0::"],
    ["::1", "0:0:0::"],
    ["::ffff:192.0.2.1", "0:0:0::"],
    ["fe80::1%eth0", "fe80:0:0::"],
    ["999.1.1.1", null],
    ["not an ip", null],
    ["1:2:3:4:5:6:7:8:9", null],
  ])("truncates %s to %s", (ip, want) => expect(truncateIp(ip)).toBe(want));

  it("keyed hash is stable per key and differs across keys", () => {
    const a = anonymizeIp("203.0.113.77", "hash", "k1");
    expect(a).toMatch(/^h_[0-9a-f]{32}$/);
    expect(anonymizeIp(" 203.0.113.77 ", "hash", "k1")).toBe(a);
    expect(anonymizeIp("203.0.113.77", "hash", "k2")).not.toBe(a);
    expect(() => anonymizeIp("203.0.113.77", "hash", undefined)).toThrow(/IP_HASH_KEY/);
    expect(anonymizeIp("203.0.113.77", "drop", "k")).toBeNull();
  });
});

describe("referrer classification", () => {
  const c = (ref: string, page = "shop.example.com", medium: string | null = null, click: string | null = null) =>
    classifyReferrer(parseUrl(ref), ref || undefined, page, medium, click);
  it.each([
    ["https://www.google.co.uk/search?q=tee", "search", "google"],
    ["https://duckduckgo.com/", "search", "duckduckgo"],
    ["https://l.facebook.com/l.php?u=x", "social", "facebook"],
    ["https://t.co/abc", "social", "twitter"],
    ["https://mail.google.com/mail/u/0/", "email", "gmail"],
    ["https://shop.example.com/cart", "internal", null],
    ["https://blog.example.org/post", "unknown", "blog.example.org"],
    ["", "direct", null],
    ["not a url", "unknown", null],
  ])("%s → %s", (ref, medium, source) => {
    const r = c(ref);
    expect(r.referrer_medium).toBe(medium);
    expect(r.referrer_source).toBe(source);
  });
  it("paid when a click id or a paid utm_medium is present", () => {
    expect(c("https://www.google.com/", "shop.example.com", null, "gclid:1").referrer_medium).toBe("paid");
    expect(c("https://www.facebook.com/", "shop.example.com", "paid_social").referrer_medium).toBe("paid");
  });
});

describe("referrer work is linear in the host", () => {
  // Counted table probes, not time: the old lookup tried every window of labels (cubic).
  const probes = (ref: string) => {
    const before = referrerLookups.count;
    classifyReferrer(parseUrl(ref), ref, "shop.example.com", null, null);
    return referrerLookups.count - before;
  };
  it("a host of the most labels DNS allows costs at most labels × the tables' longest name per table", () => {
    const labels = MAX_HOST_LABELS;
    const host = Array.from({ length: labels }, (_, i) => "abcdefghij"[i % 10]).join(".");
    expect(host.length).toBe(253);
    const n = probes(`https://${host}/`);
    expect(n).toBeGreaterThan(0);
    expect(n).toBeLessThanOrEqual(3 * labels * 2);
  });
  it("a 2 KB host (the reported 5.9 s body) and a 4 KB one are not looked up at all", () => {
    for (const size of [1100, 2000]) {
      const host = Array.from({ length: size }, (_, i) => `x${i}`.slice(0, 1)).join(".");
      expect(probes(`https://${host}.com/`)).toBe(0);
      expect(classifyReferrer(parseUrl(`https://${host}.com/`), `https://${host}.com/`, "shop.example.com", null, null)).toEqual({ referrer_host: null, referrer_medium: "unknown", referrer_source: null });
    }
  });
  it("still finds sources inside long hosts, and never Object's members", () => {
    expect(classifyReferrer(parseUrl("https://a.b.c.d.e.www.google.co.uk/"), "https://a.b.c.d.e.www.google.co.uk/", null, null, null).referrer_source).toBe("google");
    expect(classifyReferrer(parseUrl("https://constructor.example/"), "https://constructor.example/", null, null, null).referrer_source).toBe("constructor.example");
  });
});

describe("URLs keep only utm_* and click-id parameters", () => {
  it("drops other parameters, credentials and fragments; click ids only with consent", () => {
    const raw = "https://user:pw@shop.example.com/p/1?email=a%40b.c&utm_source=nl&gclid=G1&token=s3cret#access_token=x";
    const p = parseUrl(raw);
    expect(keptUrl(raw, p, true)).toBe("https://shop.example.com/p/1?utm_source=nl&gclid=G1");
    expect(keptUrl(raw, p, false)).toBe("https://shop.example.com/p/1?utm_source=nl");
    expect(keptUrl("https://shop.example.com/", parseUrl("https://shop.example.com/"), true)).toBe("https://shop.example.com/");
    expect(keptUrl("not a url?email=a@b.c", null, true)).toBe("not a url");
  });
});

describe("PII helpers", () => {
  it("recognizes emails in linear time", () => {
    expect(looksLikeEmail("Jane.Doe@example.co.uk")).toBe(true);
    for (const s of ["user_42", "a@b", "@example.com", "a@@b.com", "a b@c.com", "x@y.", "1.2.3"]) expect(looksLikeEmail(s), s).toBe(false);
  });
  it("walks arrays and * members of nested payloads, copy-on-write", () => {
    const payload = { addresses: [{ zip: "10115", city: "Berlin" }, { zip: "20095", city: "Hamburg" }], meta: { a: { email: "x@y.z" }, b: { email: "u@v.w" } } };
    const out = pseudonymizeValue(payload, [["addresses", "zip"], ["meta", "*", "email"]], "k");
    expect(out.addresses.map((a) => a.city)).toEqual(["Berlin", "Hamburg"]);
    expect(out.addresses.every((a) => /^h_/.test(a.zip))).toBe(true);
    expect(out.meta.a.email).toMatch(/^h_/);
    expect(out.meta.b.email).toMatch(/^h_/);
    expect(payload.addresses[0]!.zip).toBe("10115");
    expect(pseudonymizeValue(payload, [["nothing", "here"]], "k")).toBe(payload);
  });
});

describe("bots and server-side libraries", () => {
  const CHROME = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36";
  const GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)";
  it.each([
    ["analytics-node-next/latest", "@segment/analytics-node"],
    ["analytics-python/2.3.0", "analytics-python"],
    ["rudder-sdk-node/2.0.0", "analytics-node"],
    ["Go-http-client/1.1", null],
    ["okhttp/4.12.0", null],
    ["axios/1.6.0", null],
    ["curl/8.5.0", null],
    [null, null],
  ])("request user agent %s (library %s) is server-side, not a bot", (ua, lib) => {
    expect(judgeAgent(null, ua, lib)).toMatchObject({ is_bot: false, is_server_side: true });
  });
  it("judges the client's user agent first, and the request's for browser libraries", () => {
    expect(judgeAgent(GOOGLEBOT, "analytics-node-next/latest", "@segment/analytics-node")).toMatchObject({ is_bot: true, is_server_side: false });
    expect(judgeAgent(CHROME, "axios/1.6.0", null)).toMatchObject({ is_bot: false, is_server_side: false, ua_browser: "Chrome" });
    expect(judgeAgent(null, GOOGLEBOT, "analytics.js")).toMatchObject({ is_bot: true, is_server_side: false });
    expect(judgeAgent(null, GOOGLEBOT, null)).toMatchObject({ is_bot: true, is_server_side: false });
    expect(judgeAgent(null, "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.0.0 Safari/537.36", "analytics.js")).toMatchObject({ is_bot: true });
    // A server SDK's event is judged by the request only when a browser library sent it.
    expect(judgeAgent(null, GOOGLEBOT, "analytics-python")).toMatchObject({ is_bot: false, is_server_side: true });
  });
});

describe("JSON limits", () => {
  const nest = (depth: number) => {
    let v: unknown = 1;
    for (let i = 0; i < depth; i++) v = i % 2 ? [v] : { a: v };
    return v;
  };
  it("refuses nesting past the limit without recursing into it, and measures size only near the limit", () => {
    expect(jsonLimitError(nest(64), 32 * 1024, "event")).toBeNull();
    expect(jsonLimitError(nest(65), 32 * 1024, "event")).toMatch(/deeper than 64 levels/);
    expect(jsonLimitError(nest(20_000), 32 * 1024, "event")).toMatch(/deeper than 64 levels/);
    expect(jsonLimitError({ s: "x".repeat(40_000) }, 32 * 1024, "event")).toMatch(/is 39\.1 KB, over the 32\.0 KB limit/);
    expect(jsonLimitError({ s: "€".repeat(11_000) }, 32 * 1024, "event")).toMatch(/is 32\.2 KB, over the 32\.0 KB limit/);
    expect(jsonLimitError({ s: "x".repeat(30_000) }, 32 * 1024, "event")).toBeNull();
  });
});

describe("campaign", () => {
  it("prefers context.campaign, falls back to the page URL and finds click ids", () => {
    const page = parseUrl("https://s.example/?utm_source=fb&utm_medium=cpc&utm_campaign=bf&utm_term=tee&utm_content=a&fbclid=XYZ");
    expect(campaignFrom(undefined, page)).toEqual({
      campaign_source: "fb", campaign_medium: "cpc", campaign_name: "bf", campaign_term: "tee", campaign_content: "a", campaign_click_id: "fbclid:XYZ",
    });
    expect(campaignFrom({ source: "newsletter", name: "nov" }, page)).toMatchObject({ campaign_source: "newsletter", campaign_name: "nov", campaign_medium: "cpc" });
  });
});

describe("event time", () => {
  const now = Date.parse("2026-11-25T12:00:00.000Z");
  it("applies the client's clock error measured by sentAt", () => {
    // Client clock 1 h behind: sent at 11:00:10 by its clock, event 10 s before that.
    const t = eventTime(now, "2026-11-25T11:00:00.000Z", "2026-11-25T11:00:10.000Z");
    expect(t.event_ts).toBe("2026-11-25T11:59:50.000Z");
    expect(t.clock_skew_ms).toBe(3_590_000);
  });
  it("uses receipt time without a timestamp, and for an impossible future without sentAt", () => {
    expect(eventTime(now, undefined, undefined).event_ts).toBe("2026-11-25T12:00:00.000Z");
    expect(eventTime(now, "2026-11-26T12:00:00.000Z", undefined).event_ts).toBe("2026-11-25T12:00:00.000Z");
    expect(eventTime(now, "2026-11-20T12:00:00+02:00", undefined).event_ts).toBe("2026-11-20T10:00:00.000Z");
  });
});

describe("PII pseudonymization", () => {
  it("replaces configured paths copy-on-write, normalizing case and spaces", () => {
    const shared = { email: " Jane@Example.com " };
    const roots = { properties: { email: "jane@example.com", sku: "1" }, traits: {}, context: { traits: shared } };
    const out = pseudonymize(roots, [["properties", "email"], ["context", "traits", "email"], ["traits", "phone"]], "k");
    expect(out.properties.email).toMatch(/^h_/);
    expect((out.context.traits as { email: string }).email).toBe(out.properties.email);
    expect(shared.email).toBe(" Jane@Example.com ");
    expect(roots.properties.email).toBe("jane@example.com");
    expect(out.traits).toBe(roots.traits);
  });
});

describe("consent", () => {
  it("reads the configured category case-insensitively", () => {
    expect(consentOf({ consent: { categoryPreferences: { Analytics: false, Ads: true } } }, "analytics")).toEqual({ analytics: false, preferences: { Analytics: false, Ads: true } });
    expect(consentOf({}, "analytics").analytics).toBeNull();
  });
});

describe("queue packing", () => {
  it("keeps every message under the byte target, also for multi-byte text, and keeps order", () => {
    const recs = Array.from({ length: 300 }, (_, i) => JSON.stringify({ i, t: i % 3 ? "ä€😀".repeat(200) : "x".repeat(900) }));
    const { messages, oversize } = packRecords("events", recs, 20_000);
    expect(oversize).toEqual([]);
    for (const m of messages) {
      expect(m.bytes).toBe(new TextEncoder().encode(m.body).byteLength);
      expect(m.bytes).toBeLessThanOrEqual(20_000);
    }
    const back = messages.flatMap((m) => (JSON.parse(m.body) as { records: { i: number }[] }).records.map((r) => r.i));
    expect(back).toEqual(recs.map((_, i) => i));
    expect(utf8Length("ä€😀")).toBe(2 + 3 + 4);
  });
  it("reports records that can never fit", () => {
    const { messages, oversize } = packRecords("cdc", ["{}", JSON.stringify({ x: "y".repeat(30_000) }), "{}"], 20_000);
    expect(oversize).toEqual([1]);
    expect(messages.reduce((s, m) => s + m.count, 0)).toBe(2);
  });
});
