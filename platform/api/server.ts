/**
 * Serves the operator API on 127.0.0.1 with @hono/node-server: a fresh token per run, written to the
 * data folder once the port listens and removed when the server stops.
 */
import type { Server } from "node:http";
import { createAdaptorServer } from "@hono/node-server";
import type { Handler } from "hono";
import { createOperatorApi } from "./app.js";
import { queryTimeoutMs } from "./limits.js";
import type { OperatorPorts } from "./ports.js";
import { defaultTokenFile, newToken, removeTokenFile, writeTokenFile } from "./token.js";
import { localSettings } from "../local/settings.js";

/** Streams still open at stop (a backfill's progress) get this long before they are cut. */
const CLOSE_GRACE_MS = 2_000;

export interface OperatorApiServer {
  url: string;
  port: number;
  tokenFile: string;
  close(): Promise<void>;
}

export async function startOperatorApi(o: {
  ports: OperatorPorts;
  /** Default TIDELINE_DASHBOARD_PORT (3000); 0 picks a free one. */
  port?: number;
  /** Default <data folder>/operator-api.token. */
  tokenFile?: string;
  home?: Handler;
}): Promise<OperatorApiServer> {
  const token = newToken();
  const tokenFile = o.tokenFile ?? defaultTokenFile();
  const wanted = o.port ?? localSettings().dashboardPort;
  let port = wanted;
  const app = createOperatorApi({ ports: o.ports, token, tokenFile, port: () => port, queryTimeoutMs: queryTimeoutMs(), ...(o.home ? { home: o.home } : {}) });
  const server = createAdaptorServer({ fetch: app.fetch }) as Server;
  await new Promise<void>((resolve, reject) => {
    server.once("error", (e: NodeJS.ErrnoException) =>
      reject(e.code === "EADDRINUSE" ? new Error(`port ${wanted} on 127.0.0.1 is in use: stop what runs there or set TIDELINE_DASHBOARD_PORT`) : e),
    );
    server.listen(wanted, "127.0.0.1", resolve);
  });
  port = (server.address() as { port: number }).port;
  writeTokenFile(tokenFile, token);
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    tokenFile,
    async close() {
      removeTokenFile(tokenFile, token);
      const closed = new Promise<void>((r) => server.close(() => r()));
      server.closeIdleConnections();
      const cut = setTimeout(() => server.closeAllConnections(), CLOSE_GRACE_MS);
      await closed;
      clearTimeout(cut);
    },
  };
}
