/**
 * The `tideline` command. Each command is a module in bin/commands/ that default-exports a function
 * returning a commander Command; add new ones to COMMANDS below (bin/README.md).
 */
import { Command } from "commander";
import backfill from "./commands/backfill.js";
import dags from "./commands/dags.js";
import cost from "./commands/cost.js";
import deploy from "./commands/deploy.js";
import features from "./commands/features.js";
import generate from "./commands/generate.js";
import looker from "./commands/looker.js";
import models from "./commands/models.js";
import query from "./commands/query.js";
import reconcile from "./commands/reconcile.js";
import reset from "./commands/reset.js";
import start from "./commands/start.js";
import tail from "./commands/tail.js";

const COMMANDS: (() => Command)[] = [start, query, tail, backfill, reconcile, models, dags, generate, reset, deploy, cost, looker, features];

const program = new Command("tideline")
  .description("edge-first e-commerce analytics: the local platform and its tools")
  .showHelpAfterError("(run `npx tideline --help` for the commands)")
  // A command's options after one of its subcommands belong to the subcommand (`deploy --dry-run` vs `deploy pipeline --dry-run`).
  .enablePositionalOptions();
for (const make of COMMANDS) program.addCommand(make());

await program.parseAsync(process.argv);
