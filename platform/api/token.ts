/**
 * The per-run token of the operator API: random at each start, in a file only the user can read
 * (mode 0600) in the data folder, removed at stop. Whoever can read it is the local user; a web page
 * cannot.
 */
import { randomBytes } from "node:crypto";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from "node:fs";
import { dirname, join } from "node:path";
import { localSettings } from "../local/settings.js";

export const TOKEN_FILE_NAME = "operator-api.token";

export const defaultTokenFile = (): string => join(localSettings().dataDir, TOKEN_FILE_NAME);

export const newToken = (): string => randomBytes(32).toString("base64url");

/** Written under another name and renamed, so nobody ever reads a half-written or wider-open file. */
export function writeTokenFile(file: string, token: string): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  rmSync(tmp, { force: true });
  const fd = openSync(tmp, "wx", 0o600);
  try {
    writeSync(fd, token);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
}

export function readTokenFile(file: string): string | null {
  if (!existsSync(file)) return null;
  return readFileSync(file, "utf8").trim() || null;
}

/** Only this run's token is removed: a later run may have written its own since. */
export function removeTokenFile(file: string, token: string): void {
  if (readTokenFile(file) === token) rmSync(file, { force: true });
}
