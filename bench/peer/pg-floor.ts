/**
 * The durable-write floor of `npm run bench:peer`: a Segment /v1/batch receiver that does the least
 * a gateway that stores before it answers must do (rudder-server's gateway writes each request to a
 * PostgreSQL jobs table and commits before its 200): check the write key, parse the JSON, check the
 * batch, INSERT the request as one jsonb job row and commit. It is not a product and not a peer's
 * code; it is hand-written because no Segment-compatible server is installable here, and it stands
 * for a lower bound on such a gateway's CPU and latency.
 * Run by pg-floor-launcher.ts with PG_URL, PORT and WRITE_KEY in the environment.
 */
import { createServer } from "node:http";
import pg from "pg";

const pool = new pg.Pool({ connectionString: process.env.PG_URL, max: Number(process.env.POOL_SIZE ?? 8) });
const writeKey = process.env.WRITE_KEY ?? "";
const expected = `Basic ${Buffer.from(`${writeKey}:`).toString("base64")}`;

await pool.query(
  "CREATE TABLE IF NOT EXISTS gw_jobs (job_id bigserial PRIMARY KEY, workspace_id text NOT NULL, event_count int NOT NULL, event_payload jsonb NOT NULL, created_at timestamptz NOT NULL DEFAULT now())",
);

const server = createServer((req, res) => {
  const answer = (status: number, body: string) => {
    res.writeHead(status, { "content-type": "text/plain" });
    res.end(body);
  };
  if (req.method !== "POST" || req.url !== "/v1/batch") return answer(404, "only POST /v1/batch is served");
  if (req.headers.authorization !== expected) return answer(401, "invalid write key");
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", () => {
    const text = Buffer.concat(chunks).toString("utf8");
    let count: number;
    try {
      const parsed = JSON.parse(text) as { batch?: unknown };
      if (!Array.isArray(parsed.batch) || parsed.batch.length === 0) return answer(400, "batch must be a non-empty array");
      count = parsed.batch.length;
    } catch {
      return answer(400, "body is not JSON");
    }
    pool
      .query("INSERT INTO gw_jobs (workspace_id, event_count, event_payload) VALUES ($1, $2, $3::jsonb)", ["bench", count, text])
      .then(() => answer(200, "OK"))
      .catch((e: Error) => answer(503, `storage failed: ${e.message}`));
  });
});
server.keepAliveTimeout = 60_000;
server.listen(Number(process.env.PORT), "127.0.0.1", () => process.send?.("ready"));
