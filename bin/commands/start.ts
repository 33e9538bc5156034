/** `npx tideline start` (= `npm start`): the local platform in the foreground. */
import { Command } from "commander";
import { startLocal } from "../../platform/local/start.js";

export function startCommand(): Command {
  return new Command("start").description("start the local platform (Pub/Sub and Cloud Storage emulators, edge, pipeline); Ctrl-C stops it").action(async () => {
    process.exitCode = await startLocal();
  });
}
export default startCommand;
