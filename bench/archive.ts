/**
 * The benches' raw archive on local disk: N event records as gzip NDJSON objects laid out as the
 * edge archives them (raw/events/dt=…/hour=…), and a reader of that layout through the same port
 * as the Cloud Storage reader. Used by bench:pipeline and bench:beam.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { gzipSync } from "node:zlib";
import type { ArchiveReader } from "../pipeline/sources/archive.js";
import { eventRecord } from "../pipeline/testing/records.js";

/** The archive layout on local disk, read through the same port as the GCS reader. */
export class DirArchive implements ArchiveReader {
  constructor(private readonly dir: string) {}
  async list(prefix: string) {
    const base = join(this.dir, prefix);
    let names: string[] = [];
    try {
      names = readdirSync(base, { recursive: true }) as string[];
    } catch {
      return [];
    }
    return names
      .map((n) => join(base, n))
      .filter((p) => p.endsWith(".ndjson.gz"))
      .map((p) => ({ name: relative(this.dir, p), size: statSync(p).size }));
  }
  async read(name: string) {
    return readFileSync(join(this.dir, name));
  }
}

/** Writes `events` event records spread over three days from 2026-11-20, `perObject` per object, into a fresh `dir`. */
export function writeEventArchive(dir: string, events: number, perObject: number): { bytes: number; objects: number } {
  rmSync(dir, { recursive: true, force: true });
  const start = Date.parse("2026-11-20T00:00:00.000Z");
  const spacing = (3 * 86_400_000) / events; // three days of traffic
  let bytes = 0;
  let objects = 0;
  for (let i = 0; i < events; i += perObject) {
    const lines: string[] = [];
    for (let j = i; j < Math.min(i + perObject, events); j++) lines.push(JSON.stringify(eventRecord(j, new Date(start + j * spacing).toISOString())));
    const t = new Date(start + i * spacing).toISOString();
    const objectDir = join(dir, `raw/events/dt=${t.slice(0, 10)}/hour=${t.slice(11, 13)}`);
    mkdirSync(objectDir, { recursive: true });
    const gz = gzipSync(lines.join("\n") + "\n", { level: 6 });
    writeFileSync(join(objectDir, `b${String(objects).padStart(6, "0")}.ndjson.gz`), gz);
    bytes += gz.length;
    objects++;
  }
  return { bytes, objects };
}
