import { describe, expect, it } from "vitest";
import { anonymizeIp, truncateIp } from "./ip.js";
import { classifyReferrer } from "./referrer.js";
import { campaignFrom } from "./campaign.js";
import { eventTime } from "./time.js";
import { parseUrl } from "./url.js";
import { pseudonymize } from "./pii.js";
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
