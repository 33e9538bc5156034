/**
 * Streams a request body into Cloud Storage with a resumable upload (JSON API): the body is cut into
 * chunks of a multiple of 256 KiB as it arrives, each PUT with its Content-Range, so an upload of up to
 * MAX_BULK_UPLOAD_BYTES never sits in the Worker's memory whole. A chunk is read from the body only
 * after the previous PUT completed, so a slow Cloud Storage slows the reading (backpressure).
 */
import { tooLarge } from "../errors.js";
import type { Fetch } from "../google/http.js";

/** GCS requires non-final chunks to be multiples of 256 KiB. */
export const CHUNK_BYTES = 32 * 256 * 1024;

export interface UploadTarget {
  /** e.g. http://127.0.0.1:4443 locally, https://storage.googleapis.com in production */
  base: string;
  bucket: string;
  name: string;
  contentType: string;
  contentEncoding?: string;
  metadata?: Record<string, string>;
  headers: () => Promise<Record<string, string>>;
  fetch?: Fetch;
}

export interface UploadedObject {
  bucket: string;
  name: string;
  generation: string;
  size: string;
  [k: string]: unknown;
}

async function failure(stage: string, res: Response): Promise<Error> {
  const text = (await res.text().catch(() => "")).slice(0, 300);
  return new Error(`Cloud Storage ${stage} failed: ${res.status} ${text}`);
}

export async function resumableUpload(
  t: UploadTarget,
  body: ReadableStream<Uint8Array>,
  maxBytes: number,
): Promise<UploadedObject> {
  const doFetch: Fetch = t.fetch ?? ((url, init) => fetch(url, init));
  const start = await doFetch(
    `${t.base}/upload/storage/v1/b/${encodeURIComponent(t.bucket)}/o?uploadType=resumable&name=${encodeURIComponent(t.name)}&ifGenerationMatch=0`,
    {
      method: "POST",
      headers: { ...(await t.headers()), "content-type": "application/json; charset=UTF-8", "x-upload-content-type": t.contentType },
      body: JSON.stringify({ name: t.name, contentType: t.contentType, ...(t.contentEncoding ? { contentEncoding: t.contentEncoding } : {}), metadata: t.metadata ?? {} }),
    },
  );
  if (!start.ok) throw await failure("upload start", start);
  const session = start.headers.get("location");
  await start.body?.cancel();
  if (!session) throw new Error("Cloud Storage did not return a resumable session URI");

  const reader = body.getReader();
  let buffered: Uint8Array[] = [];
  let bufferedBytes = 0;
  let offset = 0;
  const put = async (chunk: Uint8Array, final: boolean): Promise<Response> => {
    const end = offset + chunk.byteLength - 1;
    const total = final ? String(offset + chunk.byteLength) : "*";
    const range = chunk.byteLength ? `bytes ${offset}-${end}/${total}` : `bytes */${total}`;
    const res = await doFetch(session, { method: "PUT", headers: { ...(await t.headers()), "content-range": range }, body: chunk });
    if (!final && res.status !== 308) throw await failure("chunk upload", res);
    if (final && !res.ok) throw await failure("upload finish", res);
    offset += chunk.byteLength;
    return res;
  };
  const take = (n: number): Uint8Array => {
    const out = new Uint8Array(n);
    let o = 0;
    while (o < n) {
      const head = buffered[0]!;
      const need = n - o;
      if (head.byteLength <= need) {
        out.set(head, o);
        o += head.byteLength;
        buffered.shift();
      } else {
        out.set(head.subarray(0, need), o);
        buffered[0] = head.subarray(need);
        o += need;
      }
    }
    bufferedBytes -= n;
    return out;
  };
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (offset + bufferedBytes + value.byteLength > maxBytes) {
        throw tooLarge(`the upload is larger than the ${Math.round(maxBytes / 1024 / 1024)} MB limit`, "Split the file into several uploads.");
      }
      buffered.push(value);
      bufferedBytes += value.byteLength;
      while (bufferedBytes > CHUNK_BYTES) await put(take(CHUNK_BYTES), false);
    }
    const last = await put(take(bufferedBytes), true);
    return (await last.json()) as UploadedObject;
  } catch (err) {
    await reader.cancel().catch(() => {});
    buffered = [];
    // Abandon the session so a half upload never becomes an object.
    await doFetch(session, { method: "DELETE", headers: await t.headers() }).catch(() => {});
    throw err;
  }
}
