/** Signing helpers for webhook tests, written independently of the code under test (WebCrypto). */
const enc = new TextEncoder();

async function hmac(secret: string, data: Uint8Array): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey("raw", enc.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return new Uint8Array(await crypto.subtle.sign("HMAC", key, data));
}
const b64 = (u: Uint8Array) => btoa(String.fromCharCode(...u));
const hex = (u: Uint8Array) => [...u].map((b) => b.toString(16).padStart(2, "0")).join("");
const concat = (...parts: (string | Uint8Array)[]) => {
  const bytes = parts.map((p) => (typeof p === "string" ? enc.encode(p) : p));
  const out = new Uint8Array(bytes.reduce((n, b) => n + b.byteLength, 0));
  let o = 0;
  for (const b of bytes) {
    out.set(b, o);
    o += b.byteLength;
  }
  return out;
};

export const shopifySignature = async (secret: string, body: string | Uint8Array) => b64(await hmac(secret, typeof body === "string" ? enc.encode(body) : body));
export const hubspotSignature = async (secret: string, method: string, url: string, body: string, timestamp: string) =>
  b64(await hmac(secret, concat(method, url, body, timestamp)));
export const tidelineSignature = async (secret: string, body: string, t = Math.floor(Date.now() / 1000)) =>
  `t=${t},v1=${hex(await hmac(secret, concat(`${t}.`, body)))}`;
