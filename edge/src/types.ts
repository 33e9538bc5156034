import type { EdgeEnv } from "./config.js";

/** Hono environment of the edge app: bindings plus per-request variables set by middleware. */
export interface AppEnv {
  Bindings: EdgeEnv;
  Variables: {
    requestId: string;
    /** Raw (decompressed, size-checked) request body. */
    body: Uint8Array;
    /** Milliseconds since epoch when the request arrived. */
    receivedAt: number;
    /** Source of a credential checked from headers before the body was read (write key). */
    source?: string;
  };
}
