/**
 * A fault-injecting HTTP proxy for tests, on 127.0.0.1 only: forwards to `target` and, with the given
 * probability per request, answers 429 or 503 without forwarding, drops the connection before
 * forwarding, or forwards and then drops the connection instead of answering (the ambiguous case:
 * the request took effect but the client never hears so). Deterministic for a seed.
 */
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { rng } from "../../workload/random.js";

export interface FaultStats {
  requests: number;
  forwarded: number;
  status429: number;
  status503: number;
  droppedBefore: number;
  droppedAfter: number;
}

export interface FaultProxy {
  port: number;
  host: string;
  stats: FaultStats;
  /** Probability of a fault per request (0 turns faults off). */
  setFaultRate(p: number): void;
  close(): Promise<void>;
}

/**
 * `schedule: true` makes faults deterministic: every fifth request (20%) fails, cycling through
 * dropped-after-forwarding, 503, dropped-before-forwarding and 429, so a short run meets every kind.
 */
export async function startFaultProxy(opts: { target: string; faultRate: number; seed?: number; schedule?: boolean }): Promise<FaultProxy> {
  const target = new URL(opts.target);
  const rand = rng(opts.seed ?? 1);
  let rate = opts.faultRate;
  const stats: FaultStats = { requests: 0, forwarded: 0, status429: 0, status503: 0, droppedBefore: 0, droppedAfter: 0 };

  const forward = (req: IncomingMessage, res: ServerResponse, dropAfter: boolean) => {
    stats.forwarded++;
    const up = httpRequest(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: { ...req.headers, host: target.host } },
      (upRes) => {
        if (dropAfter) {
          upRes.resume();
          upRes.on("end", () => req.socket.destroy());
          return;
        }
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        upRes.pipe(res);
      },
    );
    up.on("error", () => req.socket.destroy());
    req.pipe(up);
  };

  let faultsInjected = 0;
  const SCHEDULE = [3, 1, 2, 0];
  const server: Server = createServer((req, res) => {
    stats.requests++;
    let kind: number;
    if (opts.schedule) {
      if (rate === 0 || (rate < 1 && stats.requests % Math.round(1 / rate) !== 1)) return forward(req, res, false);
      kind = SCHEDULE[faultsInjected++ % SCHEDULE.length]!;
    } else {
      const r = rand();
      if (r >= rate) return forward(req, res, false);
      kind = Math.floor((r / rate) * 4);
    }
    if (kind === 3) {
      stats.droppedAfter++;
      return forward(req, res, true);
    }
    req.resume();
    if (kind === 0) {
      stats.status429++;
      res.writeHead(429, { "retry-after": "0", "content-type": "application/json" }).end('{"error":{"code":429,"message":"injected"}}');
    } else if (kind === 1) {
      stats.status503++;
      res.writeHead(503, { "content-type": "application/json" }).end('{"error":{"code":503,"message":"injected"}}');
    } else {
      stats.droppedBefore++;
      req.socket.destroy();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    host: `127.0.0.1:${port}`,
    stats,
    setFaultRate(p: number) {
      rate = p;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
