/**
 * The Cloud Storage emulator (fake-gcs-server behind infra/tools/gcs-emulator's guard), checked with
 * the official client (the Worker's own REST code: edge/test/storage.node.test.ts).
 * Where the emulator and real Cloud Storage differ, these tests hold our code to what Cloud Storage
 * does (docs/operations.md lists the differences).
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { gzipSync } from "node:zlib";
import { Storage } from "@google-cloud/storage";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GcsArchive } from "../../pipeline/sources/archive.js";
import { startGcsEmulator, type GcsEmulatorHandle } from "./gcs-emulator.js";
import { REPO_ROOT } from "./settings.js";

process.env.METADATA_SERVER_DETECTION = "none";
let scratch: string;
let root: string;
let gcs: GcsEmulatorHandle;
let storage: Storage;
const BUCKET = "tideline-local-raw";
const LANDING = "tideline-local-landing";

beforeAll(async () => {
  mkdirSync(join(REPO_ROOT, ".data/scratch"), { recursive: true });
  scratch = mkdtempSync(join(REPO_ROOT, ".data/scratch", "gcs-"));
  // The data folder sits two levels down, so that "../.." from a bucket lands in the scratch folder.
  root = join(scratch, "a", "b", "gcs");
  gcs = await startGcsEmulator({ port: 0, dataDir: root, buckets: [BUCKET, LANDING] });
  storage = new Storage({ apiEndpoint: gcs.url, projectId: "tideline-local" });
});
afterAll(async () => {
  await gcs?.stop();
  rmSync(scratch, { recursive: true, force: true });
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
    const bucket = storage.bucket(LANDING);
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

  it("honours generation preconditions on writes (412) and deletes", async () => {
    const file = storage.bucket(BUCKET).file("once.txt");
    await file.save("first", { resumable: false, preconditionOpts: { ifGenerationMatch: 0 } });
    const err = await file.save("second", { resumable: false, preconditionOpts: { ifGenerationMatch: 0 } }).catch((e: { code: number }) => e);
    expect((err as { code: number }).code).toBe(412);
    expect((await file.download())[0].toString()).toBe("first");
    // fake-gcs-server ignores preconditions on DELETE (real Cloud Storage answers 412); no tideline
    // code deletes with one.
    await file.delete();
    expect((await file.exists())[0]).toBe(false);
  });

  it("uploads a file with bucket.upload (one streamed resumable request, `bytes 0-*/*`) and sets metadata", async () => {
    const src = join(scratch, "upload-src.txt");
    writeFileSync(src, "from a file on disk");
    await storage.bucket(BUCKET).upload(src, { destination: "files/from-disk.txt" });
    const file = storage.bucket(BUCKET).file("files/from-disk.txt");
    expect((await file.download())[0].toString()).toBe("from a file on disk");
    await file.setMetadata({ metadata: { source: "test" } });
    const [meta] = await file.getMetadata();
    expect(meta.metadata).toEqual({ source: "test" });
  });

  it("answers GCS-style errors for missing buckets and objects", async () => {
    await expect(storage.bucket("nope-bucket").file("x").download()).rejects.toMatchObject({ code: 404 });
    await expect(storage.bucket(BUCKET).file("missing").getMetadata()).rejects.toMatchObject({ code: 404 });
  });
});

it("the backfill reader works while STORAGE_EMULATOR_HOST holds the host (the form Go, Python and the Worker use)", async () => {
  await storage.bucket(BUCKET).file("raw/events/dt=2026-11-20/hour=01/env.ndjson").save("{}\n", { resumable: false });
  process.env.STORAGE_EMULATOR_HOST = gcs.url;
  try {
    const reader = new GcsArchive(BUCKET);
    expect(await reader.list("raw/events/dt=2026-11-20/")).toEqual([{ name: "raw/events/dt=2026-11-20/hour=01/env.ndjson", size: 3 }]);
    expect(Buffer.from(await reader.read("raw/events/dt=2026-11-20/hour=01/env.ndjson")).toString()).toBe("{}\n");
  } finally {
    delete process.env.STORAGE_EMULATOR_HOST;
  }
});

describe("names cannot reach outside the data folder (issue 16)", () => {
  const outside = () => {
    const found: string[] = [];
    const walk = (d: string) => {
      for (const e of readdirSync(d)) {
        const p = join(d, e);
        if (p === root) continue;
        if (statSync(p).isDirectory()) walk(p);
        else found.push(relative(scratch, p));
      }
    };
    walk(scratch);
    return found.sort();
  };
  const u = (path: string) => `${gcs.url}${path}`;

  it("refuses bucket names like ../../x and .. and object names with .. on every write route, and writes nothing outside", async () => {
    writeFileSync(join(scratch, "a", "victim.txt"), "keep me");
    const before = outside();
    const media = (bucket: string, name: string) => fetch(u(`/upload/storage/v1/b/${bucket}/o?uploadType=media&name=${encodeURIComponent(name)}`), { method: "POST", body: "pwned" });
    const boundary = "b0undary";
    const multipart = (name: string) =>
      fetch(u(`/upload/storage/v1/b/${BUCKET}/o?uploadType=multipart`), {
        method: "POST",
        headers: { "content-type": `multipart/related; boundary=${boundary}` },
        body: `--${boundary}\r\ncontent-type: application/json\r\n\r\n${JSON.stringify({ name })}\r\n--${boundary}\r\ncontent-type: text/plain\r\n\r\npwned\r\n--${boundary}--\r\n`,
      });
    const resumableStart = (body: object) =>
      fetch(u(`/upload/storage/v1/b/${BUCKET}/o?uploadType=resumable`), { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    const attempts: [string, Promise<Response>][] = [
      ["media, object ../../escape", media(BUCKET, "../../escape-1.txt")],
      ["media, object a/../../../escape", media(BUCKET, "a/../../../escape-2.txt")],
      ["media, bucket ..", media("..", "escape-3.txt")],
      ["media, bucket %2E%2E", media("%2E%2E", "escape-4.txt")],
      ["media, bucket ../../x", media(encodeURIComponent("../../x"), "escape-5.txt")],
      ["multipart, metadata name ../../escape", multipart("../../escape-6.txt")],
      ["resumable, metadata name ../../escape", resumableStart({ name: "../../escape-7.txt" })],
      ["resumable, metadata bucket ..", resumableStart({ name: "escape-8.txt", bucket: ".." })],
      ["create bucket ../../x", fetch(u("/storage/v1/b"), { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ name: "../../x" }) })],
      ["create bucket ..", fetch(u("/storage/v1/b"), { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ name: ".." }) })],
      ["rewrite to ../../escape", fetch(u(`/storage/v1/b/${BUCKET}/o/a%2Fsmall.json/rewriteTo/b/${BUCKET}/o/${encodeURIComponent("../../escape-9.txt")}`), { method: "POST" })],
      ["copy to bucket ..", fetch(u(`/storage/v1/b/${BUCKET}/o/a%2Fsmall.json/copyTo/b/%2E%2E/o/escape-10.txt`), { method: "POST" })],
      ["compose into ../../escape", fetch(u(`/storage/v1/b/${BUCKET}/o/${encodeURIComponent("../../escape-11.txt")}/compose`), { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ sourceObjects: [{ name: "a/small.json" }] }) })],
      ["XML API put", fetch(u(`/${BUCKET}/${encodeURIComponent("../../escape-12.txt")}`), { method: "PUT", body: "pwned" })],
    ];
    for (const [what, pending] of attempts) {
      const res = await pending;
      const text = await res.text();
      expect([400, 404], `${what}: ${res.status} ${text.slice(0, 200)}`).toContain(res.status);
    }
    expect(outside()).toEqual(before);
    expect(readdirSync(root).sort()).toEqual(expect.not.arrayContaining([expect.stringMatching(/\.\./)]));
  });

  it("refuses deletes that name .. and leaves another emulator's objects next to the data folder alone", async () => {
    // A second data folder beside ours, with an object the emulator itself wrote (so it has the
    // metadata fake-gcs-server looks for before it deletes a file).
    const neighbourRoot = join(scratch, "a", "b", "neighbour");
    const neighbour = await startGcsEmulator({ port: 0, dataDir: neighbourRoot, buckets: ["other-bucket"] });
    await new Storage({ apiEndpoint: neighbour.url, projectId: "tideline-local" }).bucket("other-bucket").file("object.txt").save("keep me", { resumable: false });
    await neighbour.stop();
    const victim = join(neighbourRoot, "other-bucket", "object.txt");
    expect(existsSync(victim)).toBe(true);
    for (const path of [
      `/storage/v1/b/${BUCKET}/o/${encodeURIComponent("../../neighbour/other-bucket/object.txt")}`,
      `/storage/v1/b/${BUCKET}/o/../../neighbour/other-bucket/object.txt`,
      `/storage/v1/b/%2E%2E/o/${encodeURIComponent("neighbour/other-bucket/object.txt")}`,
      `/storage/v1/b/..`,
      `/storage/v1/b/${encodeURIComponent("../neighbour/other-bucket")}`,
      `/upload/storage/v1/b/%2E%2E/o?upload_id=x`,
    ]) {
      const res = await fetch(u(path), { method: "DELETE" });
      expect([400, 404], `DELETE ${path}: ${res.status}`).toContain(res.status);
    }
    expect(existsSync(victim)).toBe(true);
    expect(existsSync(root)).toBe(true);
  });

  it("refuses requests from web pages (Origin) and from foreign Host names (DNS rebinding)", async () => {
    const fromPage = await fetch(u(`/upload/storage/v1/b/${BUCKET}/o?uploadType=media&name=page.txt`), { method: "POST", headers: { origin: "https://example.com", "content-type": "text/plain" }, body: "x" });
    expect(fromPage.status).toBe(403);
    expect(fromPage.headers.get("access-control-allow-origin")).toBeNull();
    const { request } = await import("node:http");
    const rebound = await new Promise<number>((resolve, reject) => {
      const req = request(u(`/storage/v1/b/${BUCKET}/o`), { headers: { host: `attacker.example:${gcs.port}` } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on("error", reject);
      req.end();
    });
    expect(rebound).toBe(403);
    expect((await storage.bucket(BUCKET).file("page.txt").exists())[0]).toBe(false);
  });

  it("answers 400, not 500, for a malformed percent-escape in an object name", async () => {
    const res = await fetch(u(`/storage/v1/b/${BUCKET}/o/%E0%A4%A`));
    expect(res.status).toBe(400);
  });
});

it("persists across a restart", async () => {
  await gcs.stop();
  gcs = await startGcsEmulator({ port: 0, dataDir: root, buckets: [BUCKET] });
  storage = new Storage({ apiEndpoint: gcs.url, projectId: "tideline-local" });
  const [back] = await storage.bucket(BUCKET).file("a/small.json").download();
  expect(back.toString()).toBe('{"x":1}');
  const [meta] = await storage.bucket(BUCKET).file("files/from-disk.txt").getMetadata();
  expect(meta.metadata).toEqual({ source: "test" });
});
