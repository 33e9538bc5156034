/**
 * The tool builder as npm install runs it: it never fails the install, names Go 1.26 when Go is
 * missing or too old, and skips a tool whose binary matches its pin (without calling Go at all).
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, expect, it } from "vitest";
import { REPO_ROOT } from "../local/settings.js";
import { expectedStamp, goTool } from "./tools.js";

let dir: string;
let bin: string;
let tools: string;
beforeEach(() => {
  mkdirSync(join(REPO_ROOT, ".data/scratch"), { recursive: true });
  dir = mkdtempSync(join(REPO_ROOT, ".data/scratch", "tools-"));
  bin = join(dir, "bin");
  tools = join(dir, "tools");
  mkdirSync(bin);
  mkdirSync(tools);
  // node alone on PATH: node often shares a folder with go.
  symlinkSync(process.execPath, join(bin, "node"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const build = (...args: string[]) =>
  spawnSync(process.execPath, ["--import", "tsx", join(REPO_ROOT, "infra/tools/build.ts"), ...args], {
    cwd: REPO_ROOT,
    encoding: "utf8",
    timeout: 60_000,
    env: { PATH: bin, HOME: process.env.HOME ?? "/tmp", TIDELINE_TOOLS_BIN: tools },
  });

it("without Go, npm install's step says to install Go 1.26 and run `npm run tools`, and still exits 0 without a stack trace", () => {
  const r = build("--postinstall");
  expect(r.status).toBe(0);
  expect(r.stdout).toMatch(/\[tools\] Go 1\.26 was not found on PATH\./);
  expect(r.stdout).toMatch(/then run `npm run tools`/);
  expect(r.stdout).toMatch(/npm install itself succeeded/);
  expect(r.stdout + r.stderr).not.toMatch(/^\s+at /m);
});

it("run by hand without Go, it fails with the same message", () => {
  const r = build();
  expect(r.status).toBe(1);
  expect(r.stdout).toMatch(/Go 1\.26 was not found on PATH/);
});

it("an older Go is named with the version it reports", () => {
  writeFileSync(join(bin, "go"), '#!/bin/sh\n[ "$1 $2" = "env GOVERSION" ] && echo go1.22.4\n', { mode: 0o755 });
  const r = build();
  expect(r.status).toBe(1);
  expect(r.stdout).toMatch(/go1\.22\.4 was found; tideline's tools need Go 1\.26 or later/);
});

it("a tool whose binary and stamp match the pin is skipped without Go", () => {
  const t = goTool("gcs-emulator");
  writeFileSync(join(tools, t.name), "#!/bin/sh\n", { mode: 0o755 });
  writeFileSync(join(tools, `${t.name}.stamp`), `${expectedStamp(t)}\n`);
  const r = build();
  expect(r.status).toBe(0);
  expect(r.stdout).toMatch(/gcs-emulator: github\.com\/fsouza\/fake-gcs-server@v1\.56\.1 is built/);
  expect(r.stdout).not.toMatch(/Go 1\.26 was not found/);
});

it("an unknown tool name is refused with the known ones", () => {
  const r = build("nope");
  expect(r.status).toBe(2);
  expect(r.stdout).toMatch(/no Go tool named nope; known: gcs-emulator, prism, bigquery-emulator/);
});
