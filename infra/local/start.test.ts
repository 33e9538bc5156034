/** `npm start` as a user meets it: a missing prerequisite is named, with what to install. */
import { spawnSync } from "node:child_process";
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
