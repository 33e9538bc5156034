/**
 * Writes rows as NDJSON for a warehouse load (DuckDB read_json, BigQuery load jobs). A row whose
 * record kept its message text (pipeline/transforms/parse.ts) is written from that text, not
 * serialized again: re-serializing fifty-odd fields per row was the largest cost of a commit, and
 * events prepared on worker threads carry only the fields the transforms read, so their text is the
 * only full copy. Loads ignore members the contract drops.
 *
 * Hand-written: rows arrive as strings or as byte ranges of an archive object's buffer, and are
 * packed into 1 MiB chunks per write; one string of the whole batch (and its UTF-8 copy) doubled
 * the memory of a large commit.
 */
import { closeSync, openSync, writeSync } from "node:fs";
import { sourceTextOf } from "../pipeline/transforms/parse.js";
import { SourcedEvent } from "../pipeline/transforms/sourced-event.js";

const CHUNK_BYTES = 1 << 20;
const CLOSE_BRACE = 0x7d;

class ChunkedFile {
  private readonly buf = Buffer.allocUnsafe(CHUNK_BYTES);
  private at = 0;
  constructor(private readonly fd: number) {}

  flush(): void {
    if (this.at > 0) writeSync(this.fd, this.buf, 0, this.at);
    this.at = 0;
  }

  string(s: string): void {
    // At most three UTF-8 bytes per UTF-16 unit.
    if (this.at + s.length * 3 > this.buf.length) {
      this.flush();
      if (s.length * 3 > this.buf.length) return void writeSync(this.fd, s);
    }
    this.at += this.buf.write(s, this.at, "utf8");
  }

  bytes(b: Uint8Array, start = 0, end = b.length): void {
    const n = end - start;
    if (this.at + n > this.buf.length) {
      this.flush();
      if (n > this.buf.length) return void writeSync(this.fd, b, start, n);
    }
    this.buf.set(b.subarray(start, end), this.at);
    this.at += n;
  }

  /** A large range goes out directly, without a copy. */
  span(b: Uint8Array, start: number, end: number): void {
    if (end - start < CHUNK_BYTES / 4) return this.bytes(b, start, end);
    this.flush();
    writeSync(this.fd, b, start, end - start);
  }
}

function withFile(file: string, fn: (out: ChunkedFile) => void): void {
  const fd = openSync(file, "w");
  try {
    const out = new ChunkedFile(fd);
    fn(out);
    out.flush();
  } finally {
    closeSync(fd);
  }
}

function tailOf(r: object, columns: readonly string[]): string {
  let tail = "";
  for (const c of columns) tail += `,"${c}":${JSON.stringify((r as Record<string, unknown>)[c])}`;
  return tail + "}\n";
}

/** Whether the text may hold a member of that name (a string value of that text also matches). */
function mayHoldMember(source: string | Uint8Array, name: string): boolean {
  const quoted = `"${name}"`;
  return typeof source === "string" ? source.includes(quoted) : Buffer.from(source.buffer, source.byteOffset, source.byteLength).includes(quoted);
}

/**
 * The row as JSON when its text cannot simply be extended: a text that already holds a member named
 * like one of the pipeline's columns (a record published around the edge, say) would otherwise
 * carry that name twice, and loads differ on which one wins.
 */
function rowJson(r: object, source: string | Uint8Array, extraColumns: readonly string[]): string {
  if (!(r instanceof SourcedEvent)) return JSON.stringify(r);
  const record = JSON.parse(typeof source === "string" ? source : Buffer.from(source).toString("utf8")) as Record<string, unknown>;
  for (const c of extraColumns) record[c] = (r as unknown as Record<string, unknown>)[c];
  return JSON.stringify(record);
}

/** Rows as JSON; with extraColumns, a row with message text is that text plus those columns of the row. */
export function writeRowsNdjson(file: string, rows: readonly object[], extraColumns?: readonly string[]): void {
  withFile(file, (out) => {
    for (const r of rows) {
      const source = extraColumns ? sourceTextOf(r) : undefined;
      if (source === undefined) {
        out.string(JSON.stringify(r) + "\n");
        continue;
      }
      if (extraColumns!.some((c) => mayHoldMember(source, c))) {
        out.string(rowJson(r, source, extraColumns!) + "\n");
        continue;
      }
      const end = typeof source === "string" ? source.lastIndexOf("}") : source.lastIndexOf(CLOSE_BRACE);
      if (end <= 0) {
        out.string(rowJson(r, source, extraColumns!) + "\n");
        continue;
      }
      if (typeof source === "string") out.string(source.slice(0, end));
      else out.bytes(source, 0, end);
      out.string(tailOf(r, extraColumns!));
    }
  });
}

const isSpace = (b: number) => b === 0x0a || b === 0x0d || b === 0x20 || b === 0x09;

function gapIsBlank(buf: Buffer, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (!isSpace(buf[i]!)) return false;
  return true;
}

/**
 * Each row's message text alone, one per line (the warehouse derives the pipeline's columns
 * itself). Events prepared on worker threads that lie next to each other in their object's bytes
 * (only whitespace between them) go out as one range: when a whole object is loaded, its bytes are
 * written as they are. Throws for a row without its text.
 */
export function writeSourcesNdjson(file: string, rows: readonly object[]): void {
  withFile(file, (out) => {
    let span: { buf: Buffer; start: number; end: number } | null = null;
    const endSpan = () => {
      if (!span) return;
      out.span(span.buf, span.start, span.end);
      out.string("\n");
      span = null;
    };
    for (const r of rows) {
      if (r instanceof SourcedEvent) {
        const buf = r.sourceBuffer;
        if (span && span.buf === buf && r.sourceStart >= span.end && gapIsBlank(buf, span.end, r.sourceStart)) span.end = r.sourceEnd;
        else {
          endSpan();
          span = { buf, start: r.sourceStart, end: r.sourceEnd };
        }
        continue;
      }
      endSpan();
      const source = sourceTextOf(r);
      if (source === undefined) throw new Error("writeSourcesNdjson: a row without its message text; stage it with writeRowsNdjson");
      if (typeof source === "string") out.string(source);
      else out.bytes(source);
      out.string("\n");
    }
    endSpan();
  });
}
