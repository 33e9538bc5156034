/** The local Cloud Storage stand-in, checked with the official client and with the Worker's REST calls. */
import { mkdtempSync, rmSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { Storage } from "@google-cloud/storage";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startGcsStore } from "./server.js";

process.env.METADATA_SERVER_DETECTION = "none";
let dir: string;
let store: Awaited<ReturnType<typeof startGcsStore>>;
let storage: Storage;
const BUCKET = "tideline-local-raw";

beforeAll(async () => {
  mkdirSync(".data/scratch", { recursive: true });
  dir = mkdtempSync(join(".data/scratch", "gcs-"));
  store = await startGcsStore({ port: 0, dataDir: dir, buckets: [BUCKET, "tideline-local-landing"] });
  storage = new Storage({ apiEndpoint: store.url, projectId: "tideline-local" });
});
afterAll(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("with @google-cloud/storage", () => {
  it("saves (multipart and resumable, several chunks) and downloads byte-exact, validating hashes", async () => {
    const bucket = storage.bucket(BUCKET);
    await bucket.file("a/small.json").save('{"x":1}', { resumable: false, contentType: "application/json" });
    const big = Buffer.alloc(1_100_000);
    for (let i = 0; i < big.length; i++) big[i] = (i * 31) % 251;
    await bucket.file("a/big.bin").save(big, { resumable: true, chunkSize: 256 * 1024 });
    const [small] = await bucket.file("a/small.json").download();
    expect(small.toString()).toBe('{"x":1}');
    const [back] = await bucket.file("a/big.bin").download();
    expect(Buffer.compare(back, big)).toBe(0);
    const [meta] = await bucket.file("a/big.bin").getMetadata();
    expect(meta.size).toBe(String(big.length));
    expect(meta.contentType).toBe("application/octet-stream");
  });

  it("keeps gzip bytes as stored", async () => {
    const gz = gzipSync(Buffer.from('{"a":1}\n{"a":2}\n'));
    await storage.bucket(BUCKET).file("raw/events/x.ndjson.gz").save(gz, { resumable: false, contentType: "application/gzip" });
    const [back] = await storage.bucket(BUCKET).file("raw/events/x.ndjson.gz").download({ decompress: false } as never);
    expect(Buffer.compare(back, gz)).toBe(0);
  });

  it("lists with prefix, delimiter and page tokens", async () => {
    const bucket = storage.bucket("tideline-local-landing");
    for (let i = 0; i < 7; i++) await bucket.file(`p/dt=2026-11-2${i % 3}/f${i}.ndjson`).save(`{"i":${i}}`, { resumable: false });
    await bucket.file("p/top.ndjson").save("{}", { resumable: false });
    const [, , api] = await bucket.getFiles({ prefix: "p/", delimiter: "/", autoPaginate: false });
    expect((api as { prefixes: string[] }).prefixes).toEqual(["p/dt=2026-11-20/", "p/dt=2026-11-21/", "p/dt=2026-11-22/"]);
    const names: string[] = [];
    let query: Record<string, unknown> | null = { prefix: "p/dt=", maxResults: 3, autoPaginate: false };
    let pages = 0;
    while (query) {
      const [files, next]: [{ name: string }[], Record<string, unknown> | null] = (await bucket.getFiles(query)) as never;
      names.push(...files.map((f) => f.name));
      query = next;
      pages++;
    }
    expect(pages).toBe(3);
    expect(names).toHaveLength(7);
    expect([...names].sort()).toEqual(names);
  });

  it("honours generation preconditions (412) and deletes", async () => {
    const file = storage.bucket(BUCKET).file("once.txt");
    await file.save("first", { resumable: false, preconditionOpts: { ifGenerationMatch: 0 } });
    const err = await file.save("second", { resumable: false, preconditionOpts: { ifGenerationMatch: 0 } }).catch((e: { code: number }) => e);
    expect((err as { code: number }).code).toBe(412);
    const [meta] = await file.getMetadata();
    await expect(file.delete({ ifGenerationMatch: Number(meta.generation) + 1 } as never)).rejects.toMatchObject({ code: 412 });
    await file.delete({ ifGenerationMatch: Number(meta.generation) } as never);
    expect((await file.exists())[0]).toBe(false);
  });

  it("uploads a file with bucket.upload (one streamed resumable request, `bytes 0-*/*`) and sets metadata", async () => {
    const src = join(dir, "upload-src.txt");
    writeFileSync(src, "from a file on disk");
    await storage.bucket(BUCKET).upload(src, { destination: "files/from-disk.txt" });
    const file = storage.bucket(BUCKET).file("files/from-disk.txt");
    expect((await file.download())[0].toString()).toBe("from a file on disk");
    await file.setMetadata({ metadata: { source: "test" } });
    const [meta] = await file.getMetadata();
    expect(meta.metadata).toEqual({ source: "test" });
    expect(meta.metageneration).toBe("2");
  });

  it("answers GCS-style errors for missing buckets and objects", async () => {
    await expect(storage.bucket("nope-bucket").file("x").download()).rejects.toMatchObject({ code: 404 });
    await expect(storage.bucket(BUCKET).file("missing").getMetadata()).rejects.toMatchObject({ code: 404 });
  });
});

it("works for a client configured only by STORAGE_EMULATOR_HOST", async () => {
  process.env.STORAGE_EMULATOR_HOST = store.url;
  try {
    const viaEnv = new Storage({ projectId: "tideline-local" });
    await viaEnv.bucket(BUCKET).file("env/x.txt").save("via env", { resumable: false });
    const [back] = await viaEnv.bucket(BUCKET).file("env/x.txt").download();
    expect(back.toString()).toBe("via env");
    const [files] = await viaEnv.bucket(BUCKET).getFiles({ prefix: "env/" });
    expect(files.map((f) => f.name)).toEqual(["env/x.txt"]);
  } finally {
    delete process.env.STORAGE_EMULATOR_HOST;
  }
});

describe("the REST calls the Worker makes", () => {
  it("media upload with ifGenerationMatch=0: 200, then 412; alt=media returns the bytes with hashes", async () => {
    const url = `${store.url}/upload/storage/v1/b/${BUCKET}/o?uploadType=media&name=${encodeURIComponent("raw/events/dt=2026-11-25/hour=10/abc.ndjson.gz")}&ifGenerationMatch=0`;
    const body = gzipSync("{}\n");
    const first = await fetch(url, { method: "POST", headers: { "content-type": "application/gzip" }, body });
    expect(first.status).toBe(200);
    const meta = (await first.json()) as { name: string; generation: string; size: string; md5Hash: string };
    expect(meta).toMatchObject({ name: "raw/events/dt=2026-11-25/hour=10/abc.ndjson.gz", size: String(body.length) });
    const again = await fetch(url, { method: "POST", body });
    expect(again.status).toBe(412);
    expect(((await again.json()) as { error: { errors: { reason: string }[] } }).error.errors[0]!.reason).toBe("conditionNotMet");
    const media = await fetch(`${store.url}/storage/v1/b/${BUCKET}/o/${encodeURIComponent(meta.name)}?alt=media`);
    expect(Buffer.compare(Buffer.from(await media.arrayBuffer()), body)).toBe(0);
    expect(media.headers.get("x-goog-hash")).toContain(`md5=${meta.md5Hash}`);
  });

  it("answers 400, not 500, for a malformed percent-escape in an object name", async () => {
    const res = await fetch(`${store.url}/storage/v1/b/${BUCKET}/o/%E0%A4%A`);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { errors: { reason: string }[] } }).error.errors[0]!.reason).toBe("invalid");
  });

  it("persists across a restart", async () => {
    await store.close();
    store = await startGcsStore({ port: 0, dataDir: dir });
    storage = new Storage({ apiEndpoint: store.url, projectId: "tideline-local" });
    const [back] = await storage.bucket(BUCKET).file("a/small.json").download();
    expect(back.toString()).toBe('{"x":1}');
  });
});
