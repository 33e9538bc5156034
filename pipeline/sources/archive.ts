/**
 * Batch source: the raw archive the edge writes, `raw/<stream>/dt=YYYY-MM-DD/hour=HH/<batch-id>.ndjson.gz`
 * in the raw bucket, read through the official Cloud Storage client (the Cloud Storage emulator when
 * STORAGE_EMULATOR_HOST is set).
 */
import { Storage } from "@google-cloud/storage";
import type { InputStream } from "../transforms/types.js";
import { ARCHIVE, LOCAL_PROJECT } from "../../contracts/defaults.js";
import { DEFAULT_STORAGE_EMULATOR_HOST, RAW_BUCKET } from "../options.js";

export interface ArchiveObject {
  stream: InputStream;
  name: string;
  size: number;
}

/** The port the backfill reads through; GcsArchive is the implementation. */
export interface ArchiveReader {
  list(prefix: string): Promise<{ name: string; size: number }[]>;
  read(name: string): Promise<Uint8Array>;
}

/**
 * The client for an endpoint. @google-cloud/storage v7 takes STORAGE_EMULATOR_HOST, when set, as its
 * request base verbatim (without the /storage/v1 path that `apiEndpoint` gets), while Go, Python and
 * the Worker read it as a host; neither Cloud Storage nor fake-gcs-server serves the bare paths. The
 * client is therefore built from `apiEndpoint` alone.
 */
function storageClient(apiEndpoint: string, projectId: string): Storage {
  const saved = process.env.STORAGE_EMULATOR_HOST;
  delete process.env.STORAGE_EMULATOR_HOST;
  try {
    return new Storage({ apiEndpoint: apiEndpoint.replace(/\/+$/, "").replace(/\/storage\/v1$/, ""), projectId });
  } finally {
    if (saved !== undefined) process.env.STORAGE_EMULATOR_HOST = saved;
  }
}

export class GcsArchive implements ArchiveReader {
  private readonly storage: Storage;
  constructor(
    readonly bucket = RAW_BUCKET,
    apiEndpoint = process.env.STORAGE_EMULATOR_HOST ?? DEFAULT_STORAGE_EMULATOR_HOST,
    projectId = process.env.GOOGLE_CLOUD_PROJECT ?? LOCAL_PROJECT,
  ) {
    this.storage = storageClient(apiEndpoint, projectId);
  }

  async list(prefix: string) {
    const [files] = await this.storage.bucket(this.bucket).getFiles({ prefix, autoPaginate: true });
    return files.map((f) => ({ name: f.name, size: Number(f.metadata.size ?? 0) }));
  }

  /** The object's custom metadata (what the uploader set; the landing loader checks it). */
  async metadata(name: string): Promise<Record<string, string>> {
    const [meta] = await this.storage.bucket(this.bucket).file(name).getMetadata();
    const custom = (meta.metadata ?? {}) as Record<string, unknown>;
    return Object.fromEntries(Object.entries(custom).filter((e): e is [string, string] => typeof e[1] === "string"));
  }

  async read(name: string): Promise<Uint8Array> {
    // Raw bytes as stored: the gzip is ours to inflate (decodeChunk also accepts already-inflated text).
    const [buf] = await this.storage.bucket(this.bucket).file(name).download({ decompress: false, validation: false });
    return buf;
  }
}

const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;

/** Inclusive list of UTC dates; throws a message the CLI can show as is. */
export function datesBetween(from: string, to: string): string[] {
  for (const [flag, d] of [
    ["--from", from],
    ["--to", to],
  ] as const) {
    if (!DATE_RE.test(d) || Number.isNaN(Date.parse(`${d}T00:00:00Z`))) throw new Error(`${flag} ${d} is not a date; use YYYY-MM-DD (UTC)`);
  }
  const start = Date.parse(`${from}T00:00:00Z`);
  const end = Date.parse(`${to}T00:00:00Z`);
  if (start > end) throw new Error(`--from ${from} is after --to ${to}`);
  const out: string[] = [];
  for (let t = start; t <= end; t += 86_400_000) out.push(new Date(t).toISOString().slice(0, 10));
  return out;
}

/** Objects of the streams for the dates, in replay order: date, hour, stream, name. */
export async function listArchive(reader: ArchiveReader, dates: string[], streams: InputStream[]): Promise<ArchiveObject[]> {
  const out: (ArchiveObject & { hour: string; date: string })[] = [];
  for (const date of dates) {
    for (const stream of streams) {
      for (const o of await reader.list(ARCHIVE.datePrefix(stream, date))) {
        const hour = ARCHIVE.hourOf(o.name);
        out.push({ stream, name: o.name, size: o.size, hour, date });
      }
    }
  }
  out.sort((a, b) => a.date.localeCompare(b.date) || a.hour.localeCompare(b.hour) || a.stream.localeCompare(b.stream) || a.name.localeCompare(b.name));
  return out.map(({ stream, name, size }) => ({ stream, name, size }));
}
