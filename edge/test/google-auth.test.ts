import { afterEach, beforeEach, expect, it } from "vitest";
import { accessToken, authHeaders, clearTokenCache, SCOPES } from "../src/google/auth.js";
import { transport } from "../src/google/http.js";

const realFetch = transport.fetch;
let exchanges: { url: string; assertion: string }[] = [];

async function serviceAccount() {
  const pair = (await crypto.subtle.generateKey(
    { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" },
    true,
    ["sign", "verify"],
  )) as CryptoKeyPair;
  const pkcs8 = new Uint8Array((await crypto.subtle.exportKey("pkcs8", pair.privateKey)) as ArrayBuffer);
  const pem = `-----BEGIN PRIVATE KEY-----\n${btoa(String.fromCharCode(...pkcs8)).replace(/(.{64})/g, "$1\n")}\n-----END PRIVATE KEY-----\n`;
  const key = JSON.stringify({ type: "service_account", client_email: "edge@tideline-prod.iam.gserviceaccount.com", private_key: pem, token_uri: "https://oauth2.example/token" });
  return { key, publicKey: pair.publicKey };
}

beforeEach(() => {
  clearTokenCache();
  exchanges = [];
  transport.fetch = async (url, init) => {
    const form = new URLSearchParams(init?.body as string);
    exchanges.push({ url, assertion: form.get("assertion")! });
    expect(form.get("grant_type")).toBe("urn:ietf:params:oauth:grant-type:jwt-bearer");
    return Response.json({ access_token: `token-${exchanges.length}`, expires_in: 3600, token_type: "Bearer" });
  };
});
afterEach(() => {
  transport.fetch = realFetch;
});

const b64urlDecode = (s: string) => Uint8Array.from(atob(s.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (s.length % 4)) % 4)), (c) => c.charCodeAt(0));

it("signs an RS256 JWT that verifies with the service account's public key, with the right claims", async () => {
  const { key, publicKey } = await serviceAccount();
  const now = Date.parse("2026-11-25T10:00:00Z");
  expect(await accessToken(key, now)).toBe("token-1");
  const [h, c, sig] = exchanges[0]!.assertion.split(".");
  expect(exchanges[0]!.url).toBe("https://oauth2.example/token");
  expect(JSON.parse(new TextDecoder().decode(b64urlDecode(h!)))).toEqual({ alg: "RS256", typ: "JWT" });
  const claims = JSON.parse(new TextDecoder().decode(b64urlDecode(c!)));
  expect(claims).toEqual({ iss: "edge@tideline-prod.iam.gserviceaccount.com", scope: SCOPES, aud: "https://oauth2.example/token", iat: now / 1000, exp: now / 1000 + 3600 });
  const ok = await crypto.subtle.verify("RSASSA-PKCS1-v1_5", publicKey, b64urlDecode(sig!), new TextEncoder().encode(`${h}.${c}`));
  expect(ok).toBe(true);
});

it("caches the token until 5 minutes before expiry, sharing one exchange among concurrent callers", async () => {
  const { key } = await serviceAccount();
  const t0 = Date.parse("2026-11-25T10:00:00Z");
  const tokens = await Promise.all(Array.from({ length: 10 }, () => accessToken(key, t0)));
  expect(new Set(tokens)).toEqual(new Set(["token-1"]));
  expect(await accessToken(key, t0 + 50 * 60_000)).toBe("token-1");
  expect(exchanges).toHaveLength(1);
  expect(await accessToken(key, t0 + 56 * 60_000)).toBe("token-2");
  expect(exchanges).toHaveLength(2);
});

it("uses no token against emulators, and says what to set when the key is missing", async () => {
  expect(await authHeaders({ GCP_PROJECT: "p", PUBSUB_EMULATOR_HOST: "127.0.0.1:8085" }, "pubsub")).toEqual({});
  await expect(authHeaders({ GCP_PROJECT: "p" }, "storage")).rejects.toThrow(/GCP_SA_KEY/);
  const { key } = await serviceAccount();
  expect(await authHeaders({ GCP_PROJECT: "p", GCP_SA_KEY: key }, "storage")).toEqual({ authorization: "Bearer token-1" });
});
