/**
 * The operator API (Hono): POST /api/query, GET /api/pipeline, POST /api/backfill,
 * POST /api/reconcile, POST /api/models/run, GET /api/openapi.json, GET /healthz, and GET / for the dashboard page.
 * Built from injected ports (ports.ts) so any composition root can serve it; server.ts serves it
 * on 127.0.0.1 for the local platform, client.ts is its typed client.
 */
import { createRoute, OpenAPIHono, type z } from "@hono/zod-openapi";
import type { Context, Handler, MiddlewareHandler } from "hono";
import { zValidator } from "@hono/zod-validator";
import { bodyLimit } from "hono/body-limit";
import { secureHeaders } from "hono/secure-headers";
import { stream } from "hono/streaming";
import { ApiError, errorBody, errorResponse, invalidInput, notFound, type Issues } from "./errors.js";
import { MAX_COMMAND_BODY_BYTES, MAX_QUERY_BODY_BYTES, MAX_QUERY_ROWS } from "./limits.js";
import type { OperatorPorts } from "./ports.js";
import { BackfillMessage, BackfillRequest, ErrorBody, Health, ModelsRunMessage, ModelsRunRequest, PipelineStatus, QueryRequest, QueryResponse, ReconcileRequest, ReconcileResult } from "./schemas.js";
import { allowedHost, jsonOnly, requireToken, sameOrigin, sessionCookie } from "./security.js";
import { dashboardPage, mountDashboard } from "../dashboard/routes.js";

export interface OperatorApiOptions {
  ports: OperatorPorts;
  /** This run's token: required on /api/*. */
  token: string;
  /** Where the token is written, named in the 401 hint. */
  tokenFile: string;
  /** The port the server listens on (Host and Origin must name it), known once it listens. */
  port: () => number;
  /** Query deadline (ms); the row cap is MAX_QUERY_ROWS. */
  queryTimeoutMs: number;
  /** The page at GET / (default: the dashboard, platform/dashboard). */
  home?: Handler;
}

const validationHook = (result: { success: true } | { success: false; error: Issues }) => {
  if (!result.success) throw invalidInput(result.error);
};

const limit = (maxSize: number): MiddlewareHandler =>
  bodyLimit({
    maxSize,
    onError: () => {
      throw new ApiError(413, "payload_too_large", `the request body is over ${maxSize} bytes`, "send less: one SQL statement, or a few fields");
    },
  });

const errors = {
  400: { description: "Invalid request (the field is named), SQL refused or failed", content: { "application/json": { schema: ErrorBody } } },
  401: { description: "Missing or wrong token", content: { "application/json": { schema: ErrorBody } } },
  403: { description: "Foreign Host or Origin", content: { "application/json": { schema: ErrorBody } } },
} as const;
const postErrors = {
  ...errors,
  413: { description: "Body too large", content: { "application/json": { schema: ErrorBody } } },
  415: { description: "Body not sent as application/json", content: { "application/json": { schema: ErrorBody } } },
} as const;
const security: Record<string, string[]>[] = [{ bearer: [] }, { cookie: [] }];

const queryRoute = createRoute({
  method: "post",
  path: "/api/query",
  summary: "Run one read-only SQL statement on the warehouse",
  security,
  middleware: [limit(MAX_QUERY_BODY_BYTES)] as const,
  request: { body: { required: true, content: { "application/json": { schema: QueryRequest } } } },
  responses: {
    200: { description: `Rows (at most ${MAX_QUERY_ROWS}; truncated says when there were more)`, content: { "application/json": { schema: QueryResponse } } },
    ...postErrors,
    408: { description: "The query ran past its deadline and was interrupted", content: { "application/json": { schema: ErrorBody } } },
  },
});

const statusRoute = createRoute({
  method: "get",
  path: "/api/pipeline",
  summary: "The streaming pipeline's counters and the warehouse it writes",
  security,
  responses: { 200: { description: "Status", content: { "application/json": { schema: PipelineStatus } } }, ...errors },
});

const ndjsonResponse = (description: string, schema: z.ZodType) => ({
  description: `${description}: application/x-ndjson, one JSON object per line, sent as the work goes; the last line is {"done": true, …} or {"error": …}`,
  content: { "application/x-ndjson": { schema } },
});

const reconcileRoute = createRoute({
  method: "post",
  path: "/api/reconcile",
  summary: "Load what the raw archive holds since a time and the warehouse lacks (idempotent)",
  security,
  middleware: [limit(MAX_COMMAND_BODY_BYTES)] as const,
  request: { body: { required: true, content: { "application/json": { schema: ReconcileRequest } } } },
  responses: {
    200: { description: "What was compared and loaded", content: { "application/json": { schema: ReconcileResult } } },
    ...postErrors,
    404: { description: "This platform has no archive to reconcile with", content: { "application/json": { schema: ErrorBody } } },
  },
});

// The streamed routes are plain Hono routes validated by @hono/zod-validator and only described to
// the OpenAPI registry: @hono/zod-openapi types an application/x-ndjson answer as `never`.
const backfillRoute = createRoute({
  method: "post",
  path: "/api/backfill",
  summary: "Replay the raw archive for a UTC date range into the warehouse (idempotent)",
  security,
  request: { body: { required: true, content: { "application/json": { schema: BackfillRequest } } } },
  responses: { 200: ndjsonResponse("Progress", BackfillMessage), ...postErrors },
});

const modelsRoute = createRoute({
  method: "post",
  path: "/api/models/run",
  summary: "Build the Dataform models in the process that holds the warehouse",
  security,
  request: { body: { required: true, content: { "application/json": { schema: ModelsRunRequest } } } },
  responses: { 200: ndjsonResponse("Progress lines", ModelsRunMessage), ...postErrors },
});

const healthRoute = createRoute({
  method: "get",
  path: "/healthz",
  summary: "Liveness (no token needed)",
  responses: { 200: { description: "Up", content: { "application/json": { schema: Health } } } },
});

/**
 * An NDJSON answer: headers go at once (the client's wait for them is bounded), then one line per
 * message; a failure after the start can only be reported as a last {"error": …} line.
 */
function ndjson(c: Context, work: (send: (m: object) => Promise<void>) => Promise<void>): Response {
  c.header("content-type", "application/x-ndjson; charset=utf-8");
  c.header("cache-control", "no-store");
  return stream(c, async (s) => {
    const send = async (m: object) => {
      await s.write(JSON.stringify(m) + "\n");
    };
    try {
      await work(send);
    } catch (e) {
      await send(errorBody(e).body);
    }
  });
}

export function createOperatorApi(o: OperatorApiOptions) {
  const app = new OpenAPIHono({ defaultHook: validationHook });
  app.onError(errorResponse);
  app.notFound(notFound);
  app.openAPIRegistry.registerComponent("securitySchemes", "bearer", { type: "http", scheme: "bearer", description: "The token in .data/operator-api.token (new at each start)" });
  app.openAPIRegistry.registerComponent("securitySchemes", "cookie", { type: "apiKey", in: "cookie", name: "tideline_operator", description: "Set by GET / for the dashboard page" });

  app.use("*", secureHeaders(), allowedHost(o.port), sameOrigin(o.port), limit(MAX_QUERY_BODY_BYTES));
  app.use("/api/*", requireToken(o.token, o.tokenFile), jsonOnly());
  app.get("/", sessionCookie(o.token), o.home ?? dashboardPage);

  const { ports } = o;
  mountDashboard(app, ports, o.queryTimeoutMs);
  const routes = app
    .openapi(queryRoute, async (c) => {
      const { sql, maxRows } = c.req.valid("json");
      const r = await ports.query(sql, { timeoutMs: o.queryTimeoutMs, maxRows: maxRows ?? MAX_QUERY_ROWS });
      return c.json({ ...r, warehouse: ports.warehouse }, 200);
    })
    .openapi(statusRoute, (c) => c.json({ warehouse: ports.warehouse, status: ports.status() }, 200))
    .openapi(healthRoute, (c) => c.json({ ok: true as const }, 200))
    .openapi(reconcileRoute, async (c) => {
      if (!ports.reconcile) throw new ApiError(404, "not_found", "this platform has no raw archive to reconcile with", "run the local platform (npm start)");
      return c.json(await ports.reconcile(c.req.valid("json")), 200);
    })
    .post("/api/backfill", limit(MAX_COMMAND_BODY_BYTES), zValidator("json", BackfillRequest, validationHook), (c) => {
      const req = c.req.valid("json");
      return ndjson(c, async (send) => {
        const pending: Promise<void>[] = [];
        const result = await ports.backfill(req, (progress) => void pending.push(send({ progress })));
        await Promise.all(pending);
        await send({ done: true, result });
      });
    })
    .post("/api/models/run", limit(MAX_COMMAND_BODY_BYTES), zValidator("json", ModelsRunRequest, validationHook), (c) => {
      const req = c.req.valid("json");
      return ndjson(c, async (send) => {
        const pending: Promise<void>[] = [];
        await ports.runModels(req, (m) => void pending.push(send(m)));
        await Promise.all(pending);
      });
    });
  app.openAPIRegistry.registerPath(backfillRoute);
  app.openAPIRegistry.registerPath(modelsRoute);

  app.doc31("/api/openapi.json", {
    openapi: "3.1.0",
    info: { title: "tideline operator API", version: "1", description: "The local platform's operator API on 127.0.0.1 (docs/operator-api.md)." },
  });
  return routes;
}

export type OperatorApi = ReturnType<typeof createOperatorApi>;
