/**
 * `npm start` as a user meets it: each missing prerequisite is named, with what to install or run; Ctrl-C,
 * which reaches the launcher several times (terminal, npm, tsx), stops every service.
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect, it } from "vitest";
import { REPO_ROOT } from "../../infra/local/settings.js";

/** `tideline start` with a PATH holding node only and an empty or given tools folder. */
function startWithout(opts: { tools?: (dir: string) => void } = {}) {
  mkdirSync(join(REPO_ROOT, ".data/scratch"), { recursive: true });
  const dataDir = mkdtempSync(join(REPO_ROOT, ".data/scratch", "start-"));
  // A PATH with node and nothing else (node often shares a folder with gcloud and go).
  const bin = join(dataDir, "bin");
  const tools = join(dataDir, "tools");
  mkdirSync(bin);
  mkdirSync(tools);
  symlinkSync(process.execPath, join(bin, "node"));
  opts.tools?.(tools);
  try {
    const r = spawnSync(process.execPath, [join(REPO_ROOT, "bin/tideline.js"), "start"], {
      cwd: REPO_ROOT,
      encoding: "utf8",
      timeout: 60_000,
      env: { PATH: bin, HOME: process.env.HOME ?? "/tmp", TIDELINE_DATA_DIR: dataDir, TIDELINE_PUBSUB_PORT: "18985", TIDELINE_TOOLS_BIN: tools },
    });
    return { ...r, dataDir };
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

it("without the Google Cloud SDK and without the built Cloud Storage emulator, start names both with what to run, starts nothing and exits non-zero", () => {
  const r = startWithout();
  expect(r.status).toBe(1);
  expect(r.stdout).toMatch(/missing prerequisite: the Google Cloud SDK \(gcloud\) was not found/);
  expect(r.stdout).toMatch(/gcloud components install pubsub-emulator/);
  expect(r.stdout).toMatch(/missing prerequisite: the Cloud Storage emulator \(fake-gcs-server\) is not built \(.*gcs-emulator is missing\); npm start.* need it\. Build it with `npm run tools` \(needs Go 1\.26 or later\)/);
  expect(r.stdout).not.toMatch(/starting /);
});

it("an emulator built from another pinned version is named with the version it has and the command that rebuilds it", () => {
  const r = startWithout({
    tools: (dir) => {
      writeFileSync(join(dir, "gcs-emulator"), "#!/bin/sh\n", { mode: 0o755 });
      writeFileSync(join(dir, "gcs-emulator.stamp"), "github.com/fsouza/fake-gcs-server@v1.40.0 0123456789abcdef\n");
    },
  });
  expect(r.status).toBe(1);
  expect(r.stdout).toMatch(/missing prerequisite: the Cloud Storage emulator \(fake-gcs-server\) \(.*gcs-emulator\) was built from github\.com\/fsouza\/fake-gcs-server@v1\.40\.0, and this checkout pins github\.com\/fsouza\/fake-gcs-server@v1\.56\.1\. Build it with `npm run tools`/);
});

it("a Ctrl-C that arrives three times (terminal, then forwarded by npm and tsx) still stops every service before exiting", async () => {
  mkdirSync(join(REPO_ROOT, ".data/scratch"), { recursive: true });
  const dataDir = mkdtempSync(join(REPO_ROOT, ".data/scratch", "start-signals-"));
  try {
    const child = spawn(process.execPath, ["--import", "tsx", join(REPO_ROOT, "platform/local/testing/start-with-fake-services.ts")], {
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
