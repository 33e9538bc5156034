/**
 * Live objects the Beam graph's functions reach by handle: Beam serializes every function passed to
 * a transform, so a function may not capture a Pub/Sub batch, a sink or a queue directly. Instead it
 * captures a handle (a string) and this registry, which is registered with requireForSerialization
 * and therefore serialized by reference, not by value. On the in-process direct runner that reference
 * is this very object; a remote worker would load the module by name (see docs/pipeline.md).
 */
import serialization from "apache-beam/serialization";

const live = new Map<string, unknown>();
let seq = 0;

export const runtime = {
  put(value: unknown, prefix = "h"): string {
    const handle = `${prefix}-${process.pid}-${++seq}`;
    live.set(handle, value);
    return handle;
  },
  get<T>(handle: string): T {
    if (!live.has(handle)) throw new Error(`pipeline runtime: no live object for handle ${handle} (the graph must run in the process that built it)`);
    return live.get(handle) as T;
  },
  drop(handle: string): void {
    live.delete(handle);
  },
};

export const RUNTIME_MODULE = "tideline/pipeline/runtime";
serialization.requireForSerialization(RUNTIME_MODULE, { runtime });
