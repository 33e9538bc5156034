/**
 * Google service-account auth from a Worker: the key (secret GCP_SA_KEY) signs a JWT with WebCrypto
 * (RS256), exchanged for an access token that is cached in the isolate until 5 minutes before it
 * expires; concurrent callers share one refresh. Against local emulators no token is used.
 */
import { GoogleApiError, callWithRetry } from "./http.js";

export const SCOPES = "https://www.googleapis.com/auth/pubsub https://www.googleapis.com/auth/devstorage.read_write";
const REFRESH_EARLY_MS = 5 * 60 * 1000;

interface ServiceAccountKey {
  client_email: string;
  private_key: string;
  token_uri?: string;
}

const b64url = (bytes: Uint8Array | string) => {
  const s = typeof bytes === "string" ? btoa(bytes) : btoa(String.fromCharCode(...bytes));
  return s.replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
};

function pemToDer(pem: string): Uint8Array {
  const body = pem.replace(/-----(BEGIN|END) PRIVATE KEY-----/g, "").replace(/\s+/g, "");
  return Uint8Array.from(atob(body), (c) => c.charCodeAt(0));
}

export async function signJwt(key: ServiceAccountKey, scope: string, nowSeconds: number): Promise<string> {
  const header = b64url(JSON.stringify({ alg: "RS256", typ: "JWT" }));
  const claims = b64url(
    JSON.stringify({ iss: key.client_email, scope, aud: key.token_uri ?? "https://oauth2.googleapis.com/token", iat: nowSeconds, exp: nowSeconds + 3600 }),
  );
  const cryptoKey = await crypto.subtle.importKey("pkcs8", pemToDer(key.private_key), { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }, false, ["sign"]);
  const sig = new Uint8Array(await crypto.subtle.sign("RSASSA-PKCS1-v1_5", cryptoKey, new TextEncoder().encode(`${header}.${claims}`)));
  return `${header}.${claims}.${b64url(sig)}`;
}

interface Cached {
  token: string;
  expiresAt: number;
}
const cache = new Map<string, Cached>();
const inFlight = new Map<string, Promise<Cached>>();

export function clearTokenCache() {
  cache.clear();
  inFlight.clear();
}

export async function accessToken(saKeyJson: string, now = Date.now()): Promise<string> {
  const hit = cache.get(saKeyJson);
  if (hit && hit.expiresAt - REFRESH_EARLY_MS > now) return hit.token;
  let pending = inFlight.get(saKeyJson);
  if (!pending) {
    pending = (async () => {
      let key: ServiceAccountKey;
      try {
        key = JSON.parse(saKeyJson) as ServiceAccountKey;
      } catch {
        throw new GoogleApiError("auth", null, "GCP_SA_KEY is not valid JSON: set it to the service account's key file", false);
      }
      const jwt = await signJwt(key, SCOPES, Math.floor(now / 1000));
      const res = await callWithRetry("auth", key.token_uri ?? "https://oauth2.googleapis.com/token", () => ({
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ grant_type: "urn:ietf:params:oauth:grant-type:jwt-bearer", assertion: jwt }).toString(),
      }));
      const body = (await res.json()) as { access_token: string; expires_in: number };
      const entry = { token: body.access_token, expiresAt: now + body.expires_in * 1000 };
      cache.set(saKeyJson, entry);
      return entry;
    })().finally(() => inFlight.delete(saKeyJson));
    inFlight.set(saKeyJson, pending);
  }
  return (await pending).token;
}

export interface GoogleEnv {
  GCP_PROJECT: string;
  GCP_SA_KEY?: string;
  PUBSUB_EMULATOR_HOST?: string;
  STORAGE_EMULATOR_HOST?: string;
}

/** Authorization header for a service, or none against its emulator. */
export async function authHeaders(env: GoogleEnv, service: "pubsub" | "storage"): Promise<Record<string, string>> {
  const emulated = service === "pubsub" ? env.PUBSUB_EMULATOR_HOST : env.STORAGE_EMULATOR_HOST;
  if (emulated) return {};
  if (!env.GCP_SA_KEY) throw new GoogleApiError("auth", null, "GCP_SA_KEY is not set: add the service account key as a Worker secret", false);
  return { authorization: `Bearer ${await accessToken(env.GCP_SA_KEY)}` };
}

export const pubsubBase = (env: GoogleEnv) => (env.PUBSUB_EMULATOR_HOST ? `http://${env.PUBSUB_EMULATOR_HOST}` : "https://pubsub.googleapis.com");
export const storageBase = (env: GoogleEnv) => (env.STORAGE_EMULATOR_HOST ? env.STORAGE_EMULATOR_HOST.replace(/\/$/, "") : "https://storage.googleapis.com");
