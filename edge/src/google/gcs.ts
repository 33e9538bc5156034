/** Cloud Storage writes over the JSON API. `ifGenerationMatch=0` makes a write idempotent: 412 = already there. */
import { authHeaders, storageBase, type GoogleEnv } from "./auth.js";
import { callWithRetry } from "./http.js";

export async function gzipText(text: string): Promise<Uint8Array> {
  const stream = new Blob([text]).stream().pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** Uploads unless the object exists; resolves true when this call created it, false when it was there. */
export async function putObjectOnce(
  env: GoogleEnv,
  bucket: string,
  name: string,
  body: Uint8Array,
  opts: { contentType: string; contentEncoding?: string },
): Promise<boolean> {
  const url = `${storageBase(env)}/upload/storage/v1/b/${encodeURIComponent(bucket)}/o?uploadType=media&name=${encodeURIComponent(name)}&ifGenerationMatch=0`;
  const res = await callWithRetry(
    "archive",
    url,
    async () => ({
      method: "POST",
      headers: { "content-type": opts.contentType, ...(opts.contentEncoding ? { "content-encoding": opts.contentEncoding } : {}), ...(await authHeaders(env, "storage")) },
      body,
    }),
    { okStatuses: [412] },
  );
  await res.body?.cancel();
  return res.status !== 412;
}
