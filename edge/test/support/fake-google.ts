/**
 * An in-test stand-in for the Google endpoints the Worker calls (Cloud Storage uploads, resumable
 * sessions, Pub/Sub publish), installed through the clients' transport, recording every request.
 * Used where the Google side is not what a test is about; the real stand-ins are exercised by the
 * Node-side cross-layer tests.
 */
import { Gunzip } from "fflate";
import { transport } from "../../src/google/http.js";

export interface Recorded {
  method: string;
  url: string;
  headers: Headers;
  body: Uint8Array;
}

export function installFakeGoogle(opts: { beforeFirstChunk?: () => Promise<void> } = {}) {
  const requests: Recorded[] = [];
  let stored = new Uint8Array();
  let chunks = 0;
  const published: { attributes: Record<string, string>; data: string }[] = [];
  const real = transport.fetch;
  transport.fetch = async (url, init) => {
    const raw = init?.body;
    const body = raw == null ? new Uint8Array() : raw instanceof Uint8Array ? raw : typeof raw === "string" ? new TextEncoder().encode(raw) : new Uint8Array(await new Response(raw as BodyInit).arrayBuffer());
    const headers = new Headers(init?.headers);
    requests.push({ method: init?.method ?? "GET", url, headers, body });
    if (url.includes("uploadType=resumable")) {
      stored = new Uint8Array();
      return new Response(null, { status: 200, headers: { location: "http://127.0.0.1:4443/upload/session/abc" } });
    }
    if (url.endsWith("/upload/session/abc") && init?.method === "PUT") {
      if (chunks++ === 0) await opts.beforeFirstChunk?.();
      const merged = new Uint8Array(stored.byteLength + body.byteLength);
      merged.set(stored);
      merged.set(body, stored.byteLength);
      stored = merged;
      if (headers.get("content-range")?.endsWith("/*")) return new Response(null, { status: 308, headers: { range: `bytes=0-${stored.byteLength - 1}` } });
      return Response.json({ bucket: "tideline-local-landing", name: "x", generation: "1764000000000001", size: String(stored.byteLength) });
    }
    if (url.endsWith("/upload/session/abc") && init?.method === "DELETE") return new Response(null, { status: 499 });
    if (url.endsWith(":publish")) {
      const msgs = (JSON.parse(new TextDecoder().decode(body)) as { messages: { attributes: Record<string, string>; data: string }[] }).messages;
      published.push(...msgs.map((m) => ({ attributes: m.attributes, data: atob(m.data) })));
      return Response.json({ messageIds: msgs.map((_, i) => String(i)) });
    }
    if (url.includes("/upload/storage/v1/b/")) return Response.json({ name: "x", generation: "1" });
    return new Response("unexpected request in test", { status: 500 });
  };
  return {
    requests,
    published,
    stored: () => stored,
    /** The stored object, gunzipped (every member: bulk uploads are written as several). */
    async storedText(): Promise<string> {
      const parts: Uint8Array[] = [];
      new Gunzip((chunk) => void parts.push(chunk)).push(stored, true);
      return new TextDecoder().decode(await new Blob(parts).arrayBuffer());
    },
    /** The JSON body of the resumable session's start request (name, contentType, metadata). */
    started(): { name: string; contentType: string; metadata: Record<string, string> } | undefined {
      const start = requests.find((r) => r.url.includes("uploadType=resumable"));
      return start ? JSON.parse(new TextDecoder().decode(start.body)) : undefined;
    },
    restore() {
      transport.fetch = real;
    },
  };
}
