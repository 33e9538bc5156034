/**
 * The Worker's own Cloud Storage code (archive writes, bulk resumable uploads) against the Cloud
 * Storage emulator that `npm start` runs, from Node: the same requests workerd sends.
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { Storage } from "@google-cloud/storage";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startGcsEmulator, type GcsEmulatorHandle } from "../../infra/local/gcs-emulator.js";
import { REPO_ROOT } from "../../infra/local/settings.js";
import { GcsArchive } from "../../pipeline/sources/archive.js";
import { resumableUpload } from "../src/bulk/resumable.js";
import { putObjectOnce } from "../src/google/gcs.js";

process.env.METADATA_SERVER_DETECTION = "none";
const BUCKET = "tideline-local-raw";
const LANDING = "tideline-local-landing";
let dir: string;
let gcs: GcsEmulatorHandle;
let storage: Storage;

beforeAll(async () => {
  mkdirSync(join(REPO_ROOT, ".data/scratch"), { recursive: true });
  dir = mkdtempSync(join(REPO_ROOT, ".data/scratch", "edge-gcs-"));
  gcs = await startGcsEmulator({ port: 0, dataDir: dir, buckets: [BUCKET, LANDING] });
  storage = new Storage({ apiEndpoint: gcs.url, projectId: "tideline-local" });
});
afterAll(async () => {
  await gcs?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("the Worker's own Cloud Storage code", () => {
  const env = () => ({ STORAGE_EMULATOR_HOST: gcs.url }) as never;

  it("archive write (media upload, ifGenerationMatch=0): created once, then 412 means already there", async () => {
    const name = "raw/events/dt=2026-11-25/hour=10/abc.ndjson.gz";
    const body = gzipSync("{}\n");
    expect(await putObjectOnce(env(), BUCKET, name, body, { contentType: "application/gzip" })).toBe(true);
    expect(await putObjectOnce(env(), BUCKET, name, gzipSync("other\n"), { contentType: "application/gzip" })).toBe(false);
    const [meta] = await storage.bucket(BUCKET).file(name).getMetadata();
    expect(meta.contentType).toBe("application/gzip");
    const media = await fetch(`${gcs.url}/storage/v1/b/${BUCKET}/o/${encodeURIComponent(name)}?alt=media`);
    expect(Buffer.compare(Buffer.from(await media.arrayBuffer()), body)).toBe(0);
    expect(media.headers.get("x-goog-hash")).toContain(`md5=${meta.md5Hash}`);
  });

  it("bulk upload (resumable, 8 MiB chunks, total unknown until the end) stores the bytes and the metadata", async () => {
    const text = Array.from({ length: 120_000 }, (_, i) => JSON.stringify({ i, pad: "x".repeat(60) })).join("\n") + "\n";
    const bytes = new TextEncoder().encode(text);
    expect(bytes.byteLength).toBeGreaterThan(8 * 1024 * 1024);
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        for (let o = 0; o < bytes.byteLength; o += 1_000_000) c.enqueue(bytes.subarray(o, o + 1_000_000));
        c.close();
      },
    });
    const name = "landing/events/dt=2026-11-25/req-1.ndjson";
    const obj = await resumableUpload(
      { base: gcs.url, bucket: LANDING, name, contentType: "application/x-ndjson", metadata: { source: "web" }, headers: async () => ({}) },
      body,
      64 * 1024 * 1024,
    );
    expect(obj).toMatchObject({ bucket: LANDING, name, size: String(bytes.byteLength) });
    const [meta] = await storage.bucket(LANDING).file(name).getMetadata();
    expect(meta.metadata).toEqual({ source: "web" });
    expect(meta.contentType).toBe("application/x-ndjson");
    const back = await new GcsArchive(LANDING, gcs.url).read(name);
    expect(Buffer.compare(Buffer.from(back), Buffer.from(bytes))).toBe(0);
  });

  it("a second bulk upload to the same name is refused (412) and its session abandoned", async () => {
    const name = "landing/events/dt=2026-11-25/req-2.ndjson";
    const once = () =>
      resumableUpload(
        { base: gcs.url, bucket: LANDING, name, contentType: "application/x-ndjson", headers: async () => ({}) },
        new Blob(['{"a":1}\n']).stream(),
        1024,
      );
    await once();
    await expect(once()).rejects.toThrow(/412/);
    expect((await storage.bucket(LANDING).file(name).download())[0].toString()).toBe('{"a":1}\n');
  });
});

