/**
 * The one client of the operator API (Hono's `hc`, typed by the app's routes), used by every CLI
 * command that talks to :3000. One timeout policy: the answer must start within the query deadline
 * plus RESPONSE_HEAD_SLACK_MS (queries answer within their deadline; streams send their headers at
 * once); a stream then runs as long as the work does. One NDJSON reader for the streamed answers.
 */
import { Readable } from "node:stream";
import type { ReadableStream as NodeReadableStream } from "node:stream/web";
import { createInterface } from "node:readline";
import { hc } from "hono/client";
import type { z } from "zod";
import type { OperatorApi } from "./app.js";
import { queryTimeoutMs, RESPONSE_HEAD_SLACK_MS } from "./limits.js";
import {
  BackfillMessage,
  ErrorBody,
  ModelsRunMessage,
  PipelineStatus,
  QueryResponse,
  type BackfillProgress,
  type BackfillRequest,
  type BackfillResult,
  type ModelsRunRequest,
  ReconcileResult,
  type ReconcileRequest,
} from "./schemas.js";
import { defaultTokenFile, readTokenFile } from "./token.js";
import { localSettings } from "../local/settings.js";

/** No operator API to talk to (not started, or stopped): the caller may work on the file itself. */
export class OperatorApiUnavailable extends Error {
  override name = "OperatorApiUnavailable";
}

/** The operator API answered with an error, or not as the operator API. */
export class OperatorApiError extends Error {
  override name = "OperatorApiError";
  constructor(
    message: string,
    readonly status: number,
    readonly code: string,
    readonly hint?: string,
    /** Extra fields of the error (a failing model and assertion). */
    readonly details: Record<string, string> = {},
  ) {
    super(message);
  }
}

export interface OperatorClientOptions {
  /** Default TIDELINE_DASHBOARD_PORT (3000). */
  port?: number;
  /** Default <data folder>/operator-api.token. */
  tokenFile?: string;
  /** How long the answer may take to start (default: query deadline + slack). */
  headTimeoutMs?: number;
}

const isConnectionRefused = (e: unknown) => (e as { cause?: { code?: string } }).cause?.code === "ECONNREFUSED";

export function operatorClient(o: OperatorClientOptions = {}) {
  const port = o.port ?? localSettings().dashboardPort;
  const tokenFile = o.tokenFile ?? defaultTokenFile();
  const headTimeoutMs = o.headTimeoutMs ?? queryTimeoutMs() + RESPONSE_HEAD_SLACK_MS;
  const where = `the operator API on 127.0.0.1:${port}`;

  const token = () => {
    const t = readTokenFile(tokenFile);
    if (!t) throw new OperatorApiUnavailable(`no operator API token at ${tokenFile}: the platform is not running (npm start writes it)`);
    return t;
  };

  const timedFetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), headTimeoutMs);
    try {
      return await fetch(input, { ...init, signal: abort.signal });
    } catch (e) {
      if (abort.signal.aborted) throw new OperatorApiError(`no answer from ${where} within ${headTimeoutMs / 1000} s`, 0, "no_answer", "see the output of `npm start`: the pipeline may be stuck");
      if (isConnectionRefused(e)) throw new OperatorApiUnavailable(`nothing listens on 127.0.0.1:${port}`);
      throw new OperatorApiError(`could not reach ${where}: ${(e as Error).message}`, 0, "unreachable", "see the output of `npm start`");
    } finally {
      clearTimeout(timer);
    }
  };

  const api = hc<OperatorApi>(`http://127.0.0.1:${port}`, { fetch: timedFetch, headers: () => ({ authorization: `Bearer ${token()}` }) });

  const foreign = (status: number) =>
    new OperatorApiError(`127.0.0.1:${port} answered HTTP ${status}, but not as tideline's operator API`, status, "foreign", "another program may use the port: set TIDELINE_DASHBOARD_PORT to the platform's");

  /** A non-2xx answer as an OperatorApiError with the server's message and hint. */
  async function failure(res: Response): Promise<OperatorApiError> {
    const body = ErrorBody.safeParse(await res.json().catch(() => null));
    if (!body.success) return foreign(res.status);
    const { code, message, hint } = body.data.error;
    return new OperatorApiError(message, res.status, code, hint);
  }

  async function json<T>(res: Response, schema: z.ZodType<T>): Promise<T> {
    if (!res.ok) throw await failure(res);
    const body = schema.safeParse(await res.json().catch(() => null));
    if (!body.success) throw foreign(res.status);
    return body.data;
  }

  /** The lines of an NDJSON answer, each checked against the schema. */
  async function* ndjson<T>(res: Response, schema: z.ZodType<T>): AsyncGenerator<T> {
    if (!res.ok) throw await failure(res);
    if (!/ndjson/.test(res.headers.get("content-type") ?? "") || !res.body) throw foreign(res.status);
    const lines = createInterface({ input: Readable.fromWeb(res.body as NodeReadableStream), crlfDelay: Infinity });
    for await (const line of lines) {
      if (!line.trim()) continue;
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch {
        throw new OperatorApiError(`${where} sent a line that is not JSON: ${line.slice(0, 80)}`, res.status, "foreign");
      }
      const m = schema.safeParse(value);
      if (!m.success) throw new OperatorApiError(`${where} sent an unexpected line: ${line.slice(0, 80)}`, res.status, "foreign");
      yield m.data;
    }
  }

  const ended = () => new OperatorApiError(`${where} ended the answer without a result`, 200, "incomplete", "see the output of `npm start`");

  return {
    port,
    tokenFile,
    async query(sql: string, maxRows?: number) {
      return json(await api.api.query.$post({ json: { sql, ...(maxRows ? { maxRows } : {}) } }), QueryResponse);
    },
    async reconcile(req: ReconcileRequest) {
      return json(await api.api.reconcile.$post({ json: req }), ReconcileResult);
    },
    async status() {
      return json(await api.api.pipeline.$get(), PipelineStatus);
    },
    async backfill(req: BackfillRequest, onProgress: (p: BackfillProgress) => void): Promise<BackfillResult> {
      for await (const m of ndjson(await api.api.backfill.$post({ json: req }), BackfillMessage)) {
        if ("progress" in m) onProgress(m.progress);
        else if ("done" in m) return m.result;
        else throw new OperatorApiError(m.error.message, 200, m.error.code, m.error.hint);
      }
      throw ended();
    },
    async runModels(req: ModelsRunRequest, onLine: (line: string) => void) {
      for await (const m of ndjson(await api.api.models.run.$post({ json: req }), ModelsRunMessage)) {
        if ("line" in m) onLine(m.line);
        else if ("done" in m) return m.result;
        else {
          const { code, message, hint, model, assertion } = m.error;
          throw new OperatorApiError(message, 200, code ?? "models_failed", hint, { ...(model ? { model } : {}), ...(assertion ? { assertion } : {}) });
        }
      }
      throw ended();
    },
  };
}

export type OperatorClient = ReturnType<typeof operatorClient>;
