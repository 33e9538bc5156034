/** Reads a Zod object schema as a list of warehouse columns (name, type, nullability, description). */
import { z } from "zod";
import type { WarehouseType } from "../columns.js";

export interface Column {
  name: string;
  type: WarehouseType;
  nullable: boolean;
  description: string;
  /** The contract's default when it is not null: loaders that read a record's text fill it in. */
  default?: string | number | boolean;
}

interface Def {
  type: string;
  defaultValue?: unknown;
  format?: string;
  innerType?: z.ZodType;
  in?: z.ZodType;
  out?: z.ZodType;
}
const defOf = (s: z.ZodType) => (s as unknown as { _zod: { def: Def } })._zod.def;

function warehouseType(s: z.ZodType, path: string): WarehouseType {
  const meta = z.globalRegistry.get(s) as { warehouse?: WarehouseType } | undefined;
  if (meta?.warehouse) return meta.warehouse;
  const def = defOf(s);
  switch (def.type) {
    case "string":
      if (def.format === "datetime") return "TIMESTAMP";
      if (def.format === "date") return "DATE";
      return "STRING";
    case "enum":
    case "literal":
      return "STRING";
    case "number":
      return def.format === "safeint" || def.format === "int32" ? "INT64" : "FLOAT64";
    case "boolean":
      return "BOOL";
    case "record":
    case "object":
    case "array":
    case "unknown":
    case "any":
      return "JSON";
    default:
      throw new Error(`contracts: column ${path} has Zod type "${def.type}" with no warehouse mapping; add meta({ warehouse })`);
  }
}

export function columnsOf(schema: z.ZodObject): Column[] {
  return Object.entries(schema.shape).map(([name, field]) => {
    let s = field as z.ZodType;
    let nullable = false;
    let description = s.description;
    let fallback: unknown = null;
    for (;;) {
      const def = defOf(s);
      if (def.type === "default") fallback = def.defaultValue;
      if ((def.type === "nullable" || def.type === "optional" || def.type === "default") && def.innerType) {
        nullable = nullable || def.type !== "default";
        s = def.innerType;
        description ??= s.description;
        continue;
      }
      break;
    }
    if (!description) throw new Error(`contracts: column ${name} has no description; every column needs one`);
    const column: Column = { name, type: warehouseType(s, name), nullable, description };
    if (typeof fallback === "string" || typeof fallback === "number" || typeof fallback === "boolean") column.default = fallback;
    return column;
  });
}
