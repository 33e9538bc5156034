/**
 * A local service (an emulator) run in its own process group, so that a Ctrl-C reaches it only
 * through stop(), after the services that write to it; whatever ends this process (Ctrl-C during
 * start-up, a test runner's timeout) ends the group too. Keeps the last output lines for the
 * error message when it does not come up.
 */
import { spawn, type ChildProcess } from "node:child_process";

const TAIL_LINES = 20;
const STOP_GRACE_MS = 5000;

export interface ServiceProcess {
  child: ChildProcess;
  /** The last output lines, oldest first. */
  tail: string[];
  /** Polls `ready` until it answers true; kills the group and throws `failure(why)` when the process ends or the deadline passes. */
  waitReady(ready: () => Promise<boolean>, o: { timeoutMs: number; pollMs: number; failure: (why: string) => Error }): Promise<void>;
  /** SIGTERM to the group, SIGKILL after a grace period. */
  stop(): Promise<void>;
}

export function spawnService(
  bin: string,
  args: string[],
  o: { env?: NodeJS.ProcessEnv; onLine: (line: string) => void; clean?: (raw: string) => string },
): ServiceProcess {
  const child = spawn(bin, args, { detached: true, stdio: ["ignore", "pipe", "pipe"], ...(o.env ? { env: o.env } : {}) });
  const tail: string[] = [];
  const onData = (b: Buffer) => {
    for (const raw of b.toString().split("\n")) {
      const line = o.clean ? o.clean(raw) : raw;
      if (!line.trim()) continue;
      tail.push(line);
      if (tail.length > TAIL_LINES) tail.shift();
      o.onLine(line);
    }
  };
  child.stdout?.on("data", onData);
  child.stderr?.on("data", onData);
  const forgetOnExit = killGroupOnExit(child);
  const ended = () => child.exitCode !== null || child.signalCode !== null;
  return {
    child,
    tail,
    async waitReady(ready, w) {
      const deadline = Date.now() + w.timeoutMs;
      while (!(await ready())) {
        if (ended() || Date.now() > deadline) {
          killGroup(child);
          forgetOnExit();
          throw w.failure(child.exitCode !== null ? `it exited with code ${child.exitCode}` : "it did not answer in time");
        }
        await new Promise((r) => setTimeout(r, w.pollMs));
      }
    },
    async stop() {
      forgetOnExit();
      await stopGroup(child);
    },
  };
}

/**
 * Whatever ends this process (Ctrl-C during start-up, a test runner's timeout) SIGKILLs the child's
 * process group too, unless the child has ended; returns the function that forgets that.
 */
export function killGroupOnExit(child: ChildProcess): () => void {
  const onExit = () => {
    if (child.exitCode === null && child.signalCode === null) killGroup(child);
  };
  process.once("exit", onExit);
  return () => process.removeListener("exit", onExit);
}

/** Sends `first` to the child's process group, then SIGKILL if it has not exited within a grace period. */
export async function stopGroup(child: ChildProcess, first: NodeJS.Signals = "SIGTERM"): Promise<void> {
  const ended = () => child.exitCode !== null || child.signalCode !== null;
  if (!child.pid || ended()) return;
  const exited = new Promise((r) => child.once("exit", r));
  killGroup(child, first);
  await Promise.race([exited, new Promise((r) => setTimeout(r, STOP_GRACE_MS))]);
  if (!ended()) killGroup(child, "SIGKILL");
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals = "SIGKILL") {
  if (!child.pid) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}
