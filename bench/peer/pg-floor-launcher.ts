/**
 * Starts PostgreSQL (Debian's package: `bash infra/local/setup.sh peer`) as a non-root user on
 * 127.0.0.1 with a throwaway data folder, then the durable-write floor (pg-floor.ts) in its own
 * process, so that the bench can count the CPU of both and nothing else.
 */
import { execFileSync, fork, spawn, type ChildProcess } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { freePort } from "../../infra/local/settings.js";

/** Debian installs the server programs under a versioned folder, off the PATH. */
function pgBin(): string {
  const root = "/usr/lib/postgresql";
  const versions = existsSync(root) ? readdirSync(root).filter((v) => existsSync(join(root, v, "bin", "postgres"))).sort((a, b) => Number(b) - Number(a)) : [];
  if (!versions.length) throw new Error("peer bench: PostgreSQL's server is not installed. Install it with `bash infra/local/setup.sh peer` (Debian's postgresql package), then run `npm run bench:peer` again.");
  return join(root, versions[0]!, "bin");
}

/** PostgreSQL refuses to run as root: as root, its programs run as the `postgres` user the package creates. */
function asServerUser(cmd: string, args: string[]): [string, string[]] {
  return process.getuid?.() === 0 ? ["runuser", ["-u", "postgres", "--", cmd, ...args]] : [cmd, args];
}

export async function startPgFloor(opts: { writeKey: string }) {
  const bin = pgBin();
  const dir = mkdtempSync(join(tmpdir(), "tideline-peer-pg-"));
  if (process.getuid?.() === 0) {
    chownSync(dir, Number(execFileSync("id", ["-u", "postgres"]).toString()), Number(execFileSync("id", ["-g", "postgres"]).toString()));
  }
  const data = join(dir, "data");
  const [initCmd, initArgs] = asServerUser(join(bin, "initdb"), ["-D", data, "-U", "bench", "--auth=trust", "--no-sync", "-E", "UTF8"]);
  execFileSync(initCmd, initArgs, { stdio: "pipe" });
  const pgPort = await freePort();
  const [cmd, args] = asServerUser(join(bin, "postgres"), ["-D", data, "-h", "127.0.0.1", "-p", String(pgPort), "-k", dir]);
  const postgres: ChildProcess = spawn(cmd, args, { stdio: ["ignore", "ignore", "pipe"] });
  let pgLog = "";
  postgres.stderr!.on("data", (c: Buffer) => (pgLog += c.toString()));
  const url = `postgres://bench@127.0.0.1:${pgPort}/postgres`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    const client = new pg.Client({ connectionString: url });
    try {
      await client.connect();
      await client.end();
      break;
    } catch {
      await client.end().catch(() => {});
      if (Date.now() > deadline || postgres.exitCode !== null) throw new Error(`peer bench: PostgreSQL did not start: ${pgLog.slice(-500)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  const port = await freePort();
  const server = fork(fileURLToPath(new URL("./pg-floor.ts", import.meta.url)), [], {
    execArgv: ["--import", "tsx"],
    env: { ...process.env, PG_URL: url, PORT: String(port), WRITE_KEY: opts.writeKey },
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  await new Promise<void>((resolve, reject) => {
    server.once("message", () => resolve());
    server.once("exit", (code) => reject(new Error(`peer bench: the floor server exited (${code}) before it listened`)));
  });

  return {
    url: `http://127.0.0.1:${port}`,
    /** The processes whose trees are the floor's server side (PostgreSQL and its backends, the receiver). */
    roots: [postgres.pid!, server.pid!],
    async rows(): Promise<number> {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        return Number((await client.query("SELECT count(*) AS n FROM gw_jobs")).rows[0].n);
      } finally {
        await client.end();
      }
    },
    async stop() {
      server.kill("SIGTERM");
      const [stopCmd, stopArgs] = asServerUser(join(bin, "pg_ctl"), ["stop", "-D", data, "-m", "fast", "-w"]);
      try {
        execFileSync(stopCmd, stopArgs, { stdio: "pipe" });
      } catch {
        postgres.kill("SIGKILL");
      }
      await new Promise((r) => (postgres.exitCode !== null ? r(null) : postgres.once("exit", r)));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
