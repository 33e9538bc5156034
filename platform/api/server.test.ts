/**
 * The operator API on a real socket: the token file's life, a rebound Host on the wire, and how
 * the one client tells "nothing runs" from "something else answers" from "no answer".
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createServer, request, type Server } from "node:http";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../../infra/local/settings.js";
import { operatorClient, OperatorApiError, OperatorApiUnavailable } from "./client.js";
import { fakePorts, startTestApi, type FakePorts } from "./testing/fake-ports.js";

let ports: FakePorts;
const dir = mkdtempSync(join(tmpdir(), "tideline-server-test-"));
beforeAll(async () => {
  ports = await fakePorts();
});
afterAll(() => {
  ports.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A raw HTTP request, so the Host header is exactly what a rebound browser would send. */
function raw(port: number, path: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, headers, setHost: false }, (res) => {
      let body = "";
      res.on("data", (c: Buffer) => (body += c.toString()));
      res.on("end", () => resolve({ status: res.statusCode!, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("the operator API server", () => {
  it("writes a fresh token readable only by the user while it runs, and removes it at stop", async () => {
    const api = await startTestApi(ports);
    const file = api.server.tokenFile;
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect((await api.client.status()).status!.batches).toBe(2);
    const again = await startTestApi(ports);
    expect(readFileSync(again.server.tokenFile, "utf8")).not.toBe(readFileSync(file, "utf8"));
    await again.close();
    await api.close();
    expect(existsSync(file)).toBe(false);
  });

  it("refuses a rebound Host on the wire even with the right token", async () => {
    const api = await startTestApi(ports);
    try {
      const token = readFileSync(api.server.tokenFile, "utf8");
      const rebound = await raw(api.server.port, "/api/pipeline", { host: `attacker.example:${api.server.port}`, authorization: `Bearer ${token}` });
      expect(rebound.status).toBe(403);
      expect(JSON.parse(rebound.body)).toMatchObject({ error: { code: "forbidden_host" } });
      expect((await raw(api.server.port, "/api/pipeline", { host: `localhost:${api.server.port}`, authorization: `Bearer ${token}` })).status).toBe(200);
    } finally {
      await api.close();
    }
  });
});

describe("the client", () => {
  it("reports nothing running when there is no token file or nothing listens", async () => {
    const noToken = operatorClient({ port: await freePort(), tokenFile: join(dir, "absent.token") });
    await expect(noToken.query("SELECT 1")).rejects.toBeInstanceOf(OperatorApiUnavailable);
    const stale = join(dir, "stale.token");
    writeFileSync(stale, "left-by-a-crash");
    await expect(operatorClient({ port: await freePort(), tokenFile: stale }).query("SELECT 1")).rejects.toBeInstanceOf(OperatorApiUnavailable);
  });

  it("passes on a 401 for a token of another run, with the hint", async () => {
    const api = await startTestApi(ports);
    try {
      const wrong = join(dir, "wrong.token");
      writeFileSync(wrong, "another-run");
      const e = await operatorClient({ port: api.server.port, tokenFile: wrong }).query("SELECT 1").catch((x: unknown) => x);
      expect(e).toBeInstanceOf(OperatorApiError);
      expect(e).toMatchObject({ status: 401, code: "unauthorized", hint: expect.stringContaining("Authorization: Bearer") });
    } finally {
      await api.close();
    }
  });

  it("says when something else answers on the port, and when nothing answers in time", async () => {
    const token = join(dir, "any.token");
    writeFileSync(token, "t");
    let hang = false;
    const other: Server = createServer((req, res) => {
      if (hang) return; // never answers
      res.writeHead(404, { "content-type": "text/html" });
      res.end("<h1>some other dev server</h1>");
    });
    const port = await freePort();
    await new Promise<void>((r) => other.listen(port, "127.0.0.1", r));
    try {
      const foreign = await operatorClient({ port, tokenFile: token }).query("SELECT 1").catch((x: unknown) => x);
      expect(foreign).toMatchObject({ code: "foreign", message: `127.0.0.1:${port} answered HTTP 404, but not as tideline's operator API` });
      hang = true;
      const silent = await operatorClient({ port, tokenFile: token, headTimeoutMs: 300 }).query("SELECT 1").catch((x: unknown) => x);
      expect(silent).toMatchObject({ code: "no_answer", message: `no answer from the operator API on 127.0.0.1:${port} within 0.3 s` });
    } finally {
      other.closeAllConnections();
      await new Promise<void>((r) => other.close(() => r()));
    }
  });
});
