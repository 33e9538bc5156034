/** `npx tideline start` (= `npm start`): the local platform in the foreground. */
import { Command, Option } from "commander";
import { beamServices } from "../../platform/local/beam-engine.js";
import { localSettings } from "../../platform/local/settings.js";
import { startLocal } from "../../platform/local/start.js";

export function startCommand(): Command {
  return new Command("start")
    .description("start the local platform (Pub/Sub and Cloud Storage emulators, edge, pipeline); Ctrl-C stops it")
    .addOption(
      new Option("--engine <engine>", "single-node: the TypeScript engine into DuckDB; beam: the Beam pipeline (Python) into the BigQuery emulator")
        .choices(["single-node", "beam"])
        .default("single-node"),
    )
    .action(async (opts: { engine: "single-node" | "beam" }) => {
      process.exitCode = await startLocal(opts.engine === "beam" ? { services: beamServices(localSettings()) } : {});
    });
}
export default startCommand;
