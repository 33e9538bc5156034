/**
 * `npm start` as a user meets it: a missing prerequisite is named, with what to install; Ctrl-C,
 * which reaches the launcher several times (terminal, npm, tsx), stops every service.
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, mkdirSync, rmSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { expect, it } from "vitest";
import { REPO_ROOT } from "./settings.js";

it("without the Google Cloud SDK on PATH, start says what to install and exits non-zero", () => {
  mkdirSync(join(REPO_ROOT, ".data/scratch"), { recursive: true });
  const dataDir = mkdtempSync(join(REPO_ROOT, ".data/scratch", "start-"));
  // A PATH with node and nothing else (node often shares a folder with gcloud).
  const bin = join(dataDir, "bin");
  mkdirSync(bin);
  symlinkSync(process.execPath, join(bin, "node"));
  try {
    const r = spawnSync(process.execPath, [join(REPO_ROOT, "bin/tideline.js"), "start"], {
      cwd: REPO_ROOT,
      encoding: "utf8",
      timeout: 60_000,
      env: { PATH: bin, HOME: process.env.HOME ?? "/tmp", TIDELINE_DATA_DIR: dataDir, TIDELINE_PUBSUB_PORT: "18985" },
    });
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/missing prerequisite: the Google Cloud SDK \(gcloud\) was not found/);
    expect(r.stdout).toMatch(/gcloud components install pubsub-emulator/);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

it("a Ctrl-C that arrives three times (terminal, then forwarded by npm and tsx) still stops every service before exiting", async () => {
  mkdirSync(join(REPO_ROOT, ".data/scratch"), { recursive: true });
  const dataDir = mkdtempSync(join(REPO_ROOT, ".data/scratch", "start-signals-"));
  try {
    const child = spawn(process.execPath, ["--import", "tsx", join(REPO_ROOT, "test/fixtures/start-with-fake-services.ts")], {
      cwd: REPO_ROOT,
      env: { ...process.env, TIDELINE_DATA_DIR: dataDir },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.on("exit", (code, signal) => r({ code, signal })));
    const deadline = Date.now() + 30_000;
    while (!out.includes("Ctrl-C stops everything") && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(out).toContain("Ctrl-C stops everything");
    child.kill("SIGINT");
    await new Promise((r) => setTimeout(r, 50));
    child.kill("SIGINT");
    await new Promise((r) => setTimeout(r, 50));
    child.kill("SIGINT");
    const result = await exited;
    expect(result).toEqual({ code: 0, signal: null });
    for (const name of ["pipeline", "edge", "gcs", "pubsub"]) expect(out).toContain(`fake ${name} stopped cleanly`);
    expect(out.match(/still stopping/g)).toHaveLength(1);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}, 60_000);
