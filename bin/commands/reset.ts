/** `npx tideline reset`: clears local state (.data/), refusing while the platform runs. */
import { rmSync } from "node:fs";
import { Command } from "commander";
import { runningInstance } from "../../platform/local/start.js";
import { localSettings } from "../../platform/local/settings.js";

export function resetCommand(): Command {
  return new Command("reset").description("delete all local state (warehouse, emulator data, archive) under .data/").action(() => {
    const s = localSettings();
    const pid = runningInstance(s);
    if (pid) {
      console.error(`tideline reset: the local platform is running (pid ${pid}); stop it first (Ctrl-C in its terminal).`);
      process.exitCode = 1;
      return;
    }
    rmSync(s.dataDir, { recursive: true, force: true });
    console.log(`tideline reset: removed ${s.dataDir}`);
  });
}
export default resetCommand;
