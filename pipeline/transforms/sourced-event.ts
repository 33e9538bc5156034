/**
 * An event prepared on a worker thread: the fields the transforms read (EventCore) plus where its
 * message text lies in the object's decompressed bytes, which the sinks load as the row. One class
 * with fixed fields keeps a million of these cheap for V8; the text is a range of a buffer shared
 * by the whole archive object, not a copy or a view per event.
 */
import type { EventCore } from "./types.js";

export class SourcedEvent implements EventCore {
  // Set by assignEventTime; declared here so every instance has the same shape.
  event_date?: string;
  is_late?: boolean;
  lateness_ms?: number;
  loaded_at?: string;
  readonly #bytes: Buffer;
  readonly #start: number;
  readonly #end: number;

  constructor(
    readonly event_id: string,
    readonly event_ts: string,
    readonly type: EventCore["type"],
    readonly event: EventCore["event"],
    readonly properties: EventCore["properties"],
    bytes: Buffer,
    start: number,
    end: number,
  ) {
    this.#bytes = bytes;
    this.#start = start;
    this.#end = end;
  }

  /** The object's decompressed bytes the text lies in, and the text's range in them. */
  get sourceBuffer(): Buffer {
    return this.#bytes;
  }
  get sourceStart(): number {
    return this.#start;
  }
  get sourceEnd(): number {
    return this.#end;
  }

  /** The message text's UTF-8 bytes (a view: copy before keeping it). */
  source(): Buffer {
    return this.#bytes.subarray(this.#start, this.#end);
  }
}
