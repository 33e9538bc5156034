/**
 * `npm start -- --engine beam`: the same platform with the Beam pipeline (pipeline/beam, Python) in
 * place of the single-node engine: the BigQuery emulator (bqemulator) on the contract's ports, and
 * `python -m tideline_beam` streaming from the Pub/Sub subscriptions on Beam's local DirectRunner
 * into it. What Python needs is set up on first use by infra/local/setup.sh (venvs from lock files),
 * its output shown. The dashboard and operator API belong to the single-node engine and do not run;
 * `npx tideline query --warehouse bigquery "<GoogleSQL>"` reads the emulator.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { bqemulatorInstalled, startBqEmulator } from "../../infra/local/bqemulator.js";
import type { BigQueryEmulatorHandle } from "../../infra/local/bigquery-emulator.js";
import { REPO_ROOT } from "../../infra/local/settings.js";
import { killGroupOnExit, stopGroup } from "../../infra/local/service-process.js";
import type { LocalSettings } from "./settings.js";
import { localServices, prefixer, type Service } from "./start.js";

const BEAM_PYTHON = join(REPO_ROOT, ".venv", "beam", "bin", "python");

/** Runs `infra/local/setup.sh <part>` with its progress on this terminal; rejects with what failed. */
function setup(part: string, log: (line: string) => void): Promise<void> {
  log(`first use: setting up ${part} (bash infra/local/setup.sh ${part})…`);
  return new Promise((resolve, reject) => {
    const child = spawn("bash", [join(REPO_ROOT, "infra/local/setup.sh"), part], { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "pipe"] });
    child.stdout.on("data", (b: Buffer) => log(b.toString()));
    child.stderr.on("data", (b: Buffer) => log(b.toString()));
    child.once("error", reject);
    child.once("exit", (code) =>
      code === 0 ? resolve() : reject(new Error(`bash infra/local/setup.sh ${part} failed (exit ${code}); see the lines above, fix that and run it again`)),
    );
  });
}

function bigqueryService(s: LocalSettings): Service {
  let starting: Promise<BigQueryEmulatorHandle> | null = null;
  const log = prefixer("bigquery");
  return {
    name: "bigquery",
    async start() {
      if (!bqemulatorInstalled()) await setup("bqemulator", log);
      starting = startBqEmulator({ port: s.bigqueryPort, grpcPort: s.bigqueryGrpcPort, dataDir: join(s.dataDir, "bigquery"), project: s.project, log });
      await starting;
    },
    async stop() {
      const handle = await starting?.catch(() => null);
      await handle?.stop();
    },
    url: () => `http://127.0.0.1:${s.bigqueryPort} (BigQuery emulator, bqemulator; gRPC 127.0.0.1:${s.bigqueryGrpcPort}; project ${s.project})`,
  };
}

function beamService(s: LocalSettings): Service {
  let child: ChildProcess | null = null;
  let stopping = false;
  const log = prefixer("beam");
  return {
    name: "beam",
    async start(onExit) {
      if (!existsSync(BEAM_PYTHON)) await setup("beam", log);
      const args = ["-m", "tideline_beam", "--project", s.project, "--source", "pubsub", "--runner", "DirectRunner"];
      args.push("--bigquery_endpoint", `http://127.0.0.1:${s.bigqueryPort}`, "--bigquery_storage_endpoint", `127.0.0.1:${s.bigqueryGrpcPort}`);
      child = spawn(BEAM_PYTHON, args, {
        cwd: join(REPO_ROOT, "pipeline", "beam"),
        detached: true,
        stdio: ["ignore", "pipe", "pipe"],
        env: { ...process.env, PUBSUB_EMULATOR_HOST: `127.0.0.1:${s.pubsubPort}`, STORAGE_EMULATOR_HOST: `http://127.0.0.1:${s.gcsPort}` },
      });
      child.stdout?.on("data", (b: Buffer) => log(b.toString()));
      // Beam warns once per stateful step that its key coder may not be deterministic (the keys are strings).
      child.stderr?.on("data", (b: Buffer) => log(b.toString().replace(/^.*FastPrimitivesCoder.*$/gm, "")));
      const forgetOnExit = killGroupOnExit(child);
      child.once("exit", (code) => {
        forgetOnExit();
        if (!stopping) onExit(`the Beam pipeline exited with code ${code}; see the [beam] lines above`);
      });
    },
    async stop() {
      stopping = true;
      if (child) await stopGroup(child, "SIGTERM");
    },
    url: () => `Beam pipeline (python -m tideline_beam, DirectRunner, streaming) → BigQuery emulator; read it: npx tideline query --warehouse bigquery "<GoogleSQL>"`,
  };
}

/** The emulators and the edge of localServices, then the BigQuery emulator and the Beam pipeline. */
export function beamServices(s: LocalSettings): Service[] {
  return [...localServices(s).filter((svc) => svc.name !== "pipeline"), bigqueryService(s), beamService(s)];
}
