/** The pure transforms, as one module: the Beam graph registers it for serialization by reference. */
export * from "./types.js";
export * from "./parse.js";
export * from "./dedup.js";
export * from "./event-time.js";
export * from "./metrics.js";
export * from "./cdc.js";
export * from "./dead-letter.js";
export * from "./batch.js";
