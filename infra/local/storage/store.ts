/**
 * The objects of the local Cloud Storage stand-in: bytes in files, metadata in JSON sidecars, an
 * in-memory index rebuilt from the sidecars at start. Writes go to a temporary file first and are
 * renamed into place, so a crash never leaves a half object.
 */
import { createHash, randomBytes } from "node:crypto";
import { createReadStream, createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { Transform } from "node:stream";
import { Crc32c } from "./crc32c.js";

export interface ObjectMeta {
  kind: "storage#object";
  id: string;
  name: string;
  bucket: string;
  generation: string;
  metageneration: string;
  contentType: string;
  contentEncoding?: string;
  size: string;
  md5Hash: string;
  crc32c: string;
  timeCreated: string;
  updated: string;
  storageClass: "STANDARD";
  metadata?: Record<string, string>;
}

export class StoreError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly reason: string,
  ) {
    super(message);
  }
}

export interface Preconditions {
  ifGenerationMatch?: string;
  ifGenerationNotMatch?: string;
  ifMetagenerationMatch?: string;
  ifMetagenerationNotMatch?: string;
}

const fileKey = (name: string) => createHash("sha256").update(name).digest("hex");

export class ObjectStore {
  private buckets = new Map<string, Map<string, ObjectMeta>>();
  private lastGeneration = 0;

  constructor(private readonly dir: string) {
    mkdirSync(dir, { recursive: true });
    for (const bucket of readdirSync(dir)) {
      const objects = new Map<string, ObjectMeta>();
      const bdir = join(dir, bucket);
      if (!statSync(bdir).isDirectory()) continue;
      for (const f of readdirSync(bdir)) {
        if (!f.endsWith(".json")) continue;
        const meta = JSON.parse(readFileSync(join(bdir, f), "utf8")) as ObjectMeta;
        objects.set(meta.name, meta);
        this.lastGeneration = Math.max(this.lastGeneration, Number(meta.generation));
      }
      this.buckets.set(bucket, objects);
    }
  }

  ensureBucket(name: string) {
    if (!this.buckets.has(name)) {
      mkdirSync(join(this.dir, name), { recursive: true });
      this.buckets.set(name, new Map());
    }
  }
  hasBucket(name: string) {
    return this.buckets.has(name);
  }
  bucketNames() {
    return [...this.buckets.keys()].sort();
  }
  deleteBucket(name: string) {
    const b = this.bucket(name);
    if (b.size) throw new StoreError(409, `The bucket you tried to delete is not empty: ${name}`, "conflict");
    rmSync(join(this.dir, name), { recursive: true, force: true });
    this.buckets.delete(name);
  }

  private bucket(name: string) {
    const b = this.buckets.get(name);
    if (!b) throw new StoreError(404, `The specified bucket does not exist: ${name}`, "notFound");
    return b;
  }

  get(bucket: string, name: string, p: Preconditions = {}): ObjectMeta {
    const meta = this.bucket(bucket).get(name);
    this.check(meta, p);
    if (!meta) throw new StoreError(404, `No such object: ${bucket}/${name}`, "notFound");
    return meta;
  }

  private check(meta: ObjectMeta | undefined, p: Preconditions) {
    const fail = () => {
      throw new StoreError(412, "At least one of the pre-conditions you specified did not hold.", "conditionNotMet");
    };
    const gen = meta?.generation ?? "0";
    if (p.ifGenerationMatch !== undefined && p.ifGenerationMatch !== gen) fail();
    if (p.ifGenerationNotMatch !== undefined && p.ifGenerationNotMatch === gen) fail();
    if (p.ifMetagenerationMatch !== undefined && (!meta || p.ifMetagenerationMatch !== meta.metageneration)) fail();
    if (p.ifMetagenerationNotMatch !== undefined && meta && p.ifMetagenerationNotMatch === meta.metageneration) fail();
  }

  list(bucket: string, o: { prefix?: string; delimiter?: string; startOffset?: string; endOffset?: string }) {
    const names = [...this.bucket(bucket).keys()].sort();
    const items: ObjectMeta[] = [];
    const prefixes = new Set<string>();
    for (const n of names) {
      if (o.prefix && !n.startsWith(o.prefix)) continue;
      if (o.startOffset && n < o.startOffset) continue;
      if (o.endOffset && n >= o.endOffset) continue;
      if (o.delimiter) {
        const rest = n.slice(o.prefix?.length ?? 0);
        const at = rest.indexOf(o.delimiter);
        if (at >= 0) {
          prefixes.add((o.prefix ?? "") + rest.slice(0, at + o.delimiter.length));
          continue;
        }
      }
      items.push(this.bucket(bucket).get(n)!);
    }
    return { items, prefixes: [...prefixes].sort() };
  }

  /** Streams `body` to disk, then commits it if the preconditions hold at that moment. */
  async write(
    bucket: string,
    name: string,
    body: Readable | Uint8Array,
    attrs: { contentType?: string; contentEncoding?: string; metadata?: Record<string, string> },
    p: Preconditions,
    maxBytes: number,
  ): Promise<ObjectMeta> {
    const objects = this.bucket(bucket);
    this.check(objects.get(name), p);
    const bdir = join(this.dir, bucket);
    const tmp = join(bdir, `.tmp-${randomBytes(8).toString("hex")}`);
    const md5 = createHash("md5");
    const crc = new Crc32c();
    let size = 0;
    const meter = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        size += chunk.length;
        if (size > maxBytes) return cb(new StoreError(413, `The object is larger than ${maxBytes} bytes`, "uploadTooLarge"));
        md5.update(chunk);
        crc.update(chunk);
        cb(null, chunk);
      },
    });
    try {
      if (body instanceof Uint8Array) {
        meter.end(Buffer.from(body));
        await pipeline(meter, createWriteStream(tmp));
      } else {
        await pipeline(body, meter, createWriteStream(tmp));
      }
      // Check again: another writer may have committed while the bytes streamed in.
      this.check(objects.get(name), p);
    } catch (e) {
      rmSync(tmp, { force: true });
      throw e;
    }
    const now = new Date().toISOString();
    const generation = String(Math.max(Date.now() * 1000, this.lastGeneration + 1));
    this.lastGeneration = Number(generation);
    const meta: ObjectMeta = {
      kind: "storage#object",
      id: `${bucket}/${name}/${generation}`,
      name,
      bucket,
      generation,
      metageneration: "1",
      contentType: attrs.contentType ?? "application/octet-stream",
      ...(attrs.contentEncoding ? { contentEncoding: attrs.contentEncoding } : {}),
      size: String(size),
      md5Hash: md5.digest("base64"),
      crc32c: crc.base64(),
      timeCreated: now,
      updated: now,
      storageClass: "STANDARD",
      ...(attrs.metadata ? { metadata: attrs.metadata } : {}),
    };
    const key = fileKey(name);
    renameSync(tmp, join(bdir, `${key}.bin`));
    this.writeMeta(bucket, key, meta);
    objects.set(name, meta);
    return meta;
  }

  private writeMeta(bucket: string, key: string, meta: ObjectMeta) {
    const path = join(this.dir, bucket, `${key}.json`);
    writeFileSync(`${path}.tmp`, JSON.stringify(meta));
    renameSync(`${path}.tmp`, path);
  }

  patch(bucket: string, name: string, patch: Partial<Pick<ObjectMeta, "contentType" | "contentEncoding" | "metadata">>, p: Preconditions): ObjectMeta {
    const meta = this.get(bucket, name, p);
    const next: ObjectMeta = {
      ...meta,
      ...(patch.contentType ? { contentType: patch.contentType } : {}),
      ...(patch.contentEncoding ? { contentEncoding: patch.contentEncoding } : {}),
      ...(patch.metadata ? { metadata: { ...meta.metadata, ...patch.metadata } } : {}),
      metageneration: String(Number(meta.metageneration) + 1),
      updated: new Date().toISOString(),
    };
    this.writeMeta(bucket, fileKey(name), next);
    this.bucket(bucket).set(name, next);
    return next;
  }

  delete(bucket: string, name: string, p: Preconditions) {
    this.get(bucket, name, p);
    const key = fileKey(name);
    rmSync(join(this.dir, bucket, `${key}.bin`), { force: true });
    rmSync(join(this.dir, bucket, `${key}.json`), { force: true });
    this.bucket(bucket).delete(name);
  }

  read(bucket: string, name: string, range?: { start: number; end: number }): Readable {
    const path = join(this.dir, bucket, `${fileKey(name)}.bin`);
    if (!existsSync(path)) throw new StoreError(404, `No such object: ${bucket}/${name}`, "notFound");
    return createReadStream(path, range);
  }
}
