/**
 * Calls to Google APIs with retries: 429, 5xx, timeouts and connection failures are retried with
 * exponential backoff and full jitter; the statuses in NON_RETRYABLE fail at once (Snowplow's list).
 */
export const NON_RETRYABLE = new Set([400, 401, 403, 404, 405, 409, 410, 413, 422]);

export class GoogleApiError extends Error {
  override name = "GoogleApiError";
  constructor(
    readonly stage: "publish" | "archive" | "auth" | "upload",
    readonly status: number | null,
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
  }
}

export type Fetch = (input: string, init?: RequestInit) => Promise<Response>;

/** Swappable in tests: every Google API call goes through this. */
export const transport: { fetch: Fetch; sleep: (ms: number) => Promise<void> } = {
  fetch: (input, init) => fetch(input, init),
  sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
};

export interface RetryOptions {
  attempts?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  timeoutMs?: number;
  /** Statuses that count as success besides 2xx (e.g. 412 for ifGenerationMatch=0 writes). */
  okStatuses?: number[];
}

export async function callWithRetry(
  stage: GoogleApiError["stage"],
  url: string,
  init: () => Promise<RequestInit> | RequestInit,
  o: RetryOptions = {},
): Promise<Response> {
  const attempts = o.attempts ?? 6;
  const base = o.baseDelayMs ?? 100;
  const max = o.maxDelayMs ?? 3000;
  let last: GoogleApiError | null = null;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    try {
      const res = await transport.fetch(url, { ...(await init()), signal: AbortSignal.timeout(o.timeoutMs ?? 15_000) });
      if (res.ok || o.okStatuses?.includes(res.status)) return res;
      const text = (await res.text().catch(() => "")).slice(0, 300);
      last = new GoogleApiError(stage, res.status, `${stage} ${res.status}: ${text}`, !NON_RETRYABLE.has(res.status));
      if (!last.retryable) throw last;
    } catch (err) {
      if (err instanceof GoogleApiError && !err.retryable) throw err;
      if (!(err instanceof GoogleApiError)) last = new GoogleApiError(stage, null, `${stage}: ${(err as Error).message}`, true);
    }
    if (attempt < attempts) await transport.sleep(Math.random() * Math.min(max, base * 2 ** (attempt - 1)));
  }
  throw last ?? new GoogleApiError(stage, null, `${stage} failed`, true);
}
