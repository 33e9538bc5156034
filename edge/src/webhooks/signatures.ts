/**
 * Webhook signature checks, all over the raw body bytes and compared in constant time:
 * Shopify (base64 HMAC-SHA256 of the body), HubSpot v3 (base64 HMAC-SHA256 of method + URI + body +
 * timestamp) and tideline's generic form (`t=<unix s>,v1=<hex HMAC-SHA256 of "t.body">`).
 */
import { createHmac } from "node:crypto";
import { HUBSPOT_MAX_AGE_MS, WEBHOOK_TOLERANCE_SECONDS } from "../../../contracts/limits.js";
import { EdgeError, badSignature } from "../errors.js";
import { safeEqual } from "../lib/auth.js";

const hmac = (secret: string, ...parts: (string | Uint8Array)[]) => {
  const h = createHmac("sha256", secret);
  for (const p of parts) h.update(p);
  return h.digest();
};

const stale = (message: string) =>
  new EdgeError(401, "stale_signature", message, "Resend with a fresh timestamp; check the sender's clock (tolerance is 5 minutes).");

export function verifyShopify(secret: string, body: Uint8Array, header: string | undefined): void {
  if (!header) throw badSignature("missing X-Shopify-Hmac-Sha256 header", "Shopify signs every webhook; check that the request comes from Shopify.");
  const expected = hmac(secret, body).toString("base64");
  if (!safeEqual(expected, header.trim())) throw badSignature("X-Shopify-Hmac-Sha256 does not match the body", "Check SHOPIFY_SECRET (the app's webhook signing secret).");
}

/** HubSpot decodes these percent-escapes in the URI before signing (signature v3 docs). */
const HUBSPOT_DECODE: Record<string, string> = {
  "%3A": ":", "%2F": "/", "%3F": "?", "%40": "@", "%21": "!", "%24": "$", "%27": "'", "%28": "(", "%29": ")", "%2A": "*", "%2C": ",", "%3B": ";",
};
const hubspotUri = (uri: string) => uri.replace(/%(3A|2F|3F|40|21|24|27|28|29|2A|2C|3B)/gi, (m) => HUBSPOT_DECODE[m.toUpperCase()] ?? m);

export function verifyHubSpotV3(
  secret: string,
  method: string,
  uris: string[],
  body: Uint8Array,
  signature: string | undefined,
  timestamp: string | undefined,
  now = Date.now(),
): void {
  if (!signature || !timestamp) {
    throw badSignature("missing X-HubSpot-Signature-v3 or X-HubSpot-Request-Timestamp header", "Use HubSpot webhooks with signature version 3.");
  }
  const ts = Number(timestamp);
  if (!Number.isFinite(ts)) throw badSignature("X-HubSpot-Request-Timestamp is not a number of milliseconds");
  if (now - ts > HUBSPOT_MAX_AGE_MS || ts - now > HUBSPOT_MAX_AGE_MS) throw stale("X-HubSpot-Request-Timestamp is more than 5 minutes from now");
  const given = signature.trim();
  for (const uri of new Set(uris.flatMap((u) => [u, hubspotUri(u)]))) {
    if (safeEqual(hmac(secret, method, uri, body, timestamp).toString("base64"), given)) return;
  }
  throw badSignature("X-HubSpot-Signature-v3 does not match", "Check HUBSPOT_SECRET (the app's client secret) and, behind a proxy, PUBLIC_BASE_URL.");
}

/** A parsed X-Tideline-Signature header: its timestamp and v1 signatures, fresh (else 401). */
export interface TidelineSignature {
  t: string;
  v1: string[];
}

export function parseTidelineSignature(header: string | undefined, nowSeconds = Math.floor(Date.now() / 1000)): TidelineSignature {
  if (!header) throw badSignature("missing X-Tideline-Signature header", 'Sign the body: X-Tideline-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, t + "." + body)>.');
  let t: string | undefined;
  const v1: string[] = [];
  for (const part of header.split(",")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    const k = part.slice(0, eq).trim();
    const v = part.slice(eq + 1).trim();
    if (k === "t") t = v;
    else if (k === "v1") v1.push(v.toLowerCase());
  }
  if (!t || !/^\d{1,12}$/.test(t) || !v1.length) throw badSignature("X-Tideline-Signature must look like t=<unix seconds>,v1=<hex>");
  if (Math.abs(nowSeconds - Number(t)) > WEBHOOK_TOLERANCE_SECONDS) throw stale(`the signature timestamp is more than ${WEBHOOK_TOLERANCE_SECONDS} s from now`);
  return { t, v1 };
}

/** An HMAC over `t.` and then whatever is fed to it (a streamed upload), checked against the signature. */
export function tidelineVerifier(secret: string, sig: TidelineSignature) {
  const h = createHmac("sha256", secret).update(`${sig.t}.`);
  return {
    update: (chunk: Uint8Array) => void h.update(chunk),
    /** True when any v1 value matches (several allow rotating the secret). */
    matches(): boolean {
      const expected = h.digest("hex");
      let ok = false;
      for (const candidate of sig.v1) if (safeEqual(expected, candidate)) ok = true;
      return ok;
    },
  };
}

export function verifyTideline(secret: string, body: Uint8Array, header: string | undefined, nowSeconds = Math.floor(Date.now() / 1000)): void {
  const v = tidelineVerifier(secret, parseTidelineSignature(header, nowSeconds));
  v.update(body);
  if (!v.matches()) throw badSignature("X-Tideline-Signature does not match the body", "Check the secret configured for this source in WEBHOOK_SECRETS.");
}
