/**
 * The Dataform project's source declarations (warehouse/dataform/definitions/sources/declarations.js):
 * every table the ingestion path owns, with the contract's description and columns, so the models'
 * sources and the data dictionary never drift from contracts/.
 */
import { TABLES, tableId, type TableSpec } from "../tables.js";
import { columnsOf } from "./columns.js";

function declaration(t: TableSpec) {
  const columns = Object.fromEntries(columnsOf(t.schema).map((c) => [c.name, c.description]));
  return { schema: t.dataset, name: t.name, description: t.description, columns };
}

export function dataformDeclarations(): string {
  const declarations = [...TABLES].sort((a, b) => tableId(a).localeCompare(tableId(b))).map(declaration);
  return [
    "// Generated from contracts/ by `npm run generate` (contracts/generators/dataform.ts); do not edit:",
    "// `npm run test:contracts` fails when it is stale. The tables the pipeline fills, which the models",
    "// read but do not build. The runner's reference data is declared in reference.js.",
    `const sources = ${JSON.stringify(declarations, null, 2)};`,
    "for (const s of sources) declare(s);",
    "",
  ].join("\n");
}
