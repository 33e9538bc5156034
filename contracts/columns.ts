/**
 * Column helpers: Zod schemas that also say which warehouse type they become.
 * The generators read the string format / number kind / `warehouse` meta; nothing else is needed.
 */
import { z } from "zod";

export type WarehouseType = "STRING" | "INT64" | "FLOAT64" | "NUMERIC" | "BOOL" | "TIMESTAMP" | "DATE" | "JSON";

/** A UTC instant as ISO-8601 with a `Z` or an offset, e.g. 2026-11-25T10:00:00.000Z. */
export const timestamp = (description: string) => z.iso.datetime({ offset: true }).describe(description);
export const date = (description: string) => z.iso.date().describe(description);
export const str = (description: string) => z.string().describe(description);
export const int = (description: string) => z.int().describe(description);
export const float = (description: string) => z.number().describe(description);
export const bool = (description: string) => z.boolean().describe(description);
/** A decimal amount kept exactly: a number or a decimal string on input, NUMERIC in the warehouse. */
export const decimal = (description: string) =>
  z.union([z.number(), z.string().regex(/^-?\d+(\.\d+)?$/)]).meta({ warehouse: "NUMERIC" }).describe(description);
/** Free-form JSON (an object, array or scalar), JSON in the warehouse. */
export const json = (description: string) => z.unknown().meta({ warehouse: "JSON" }).describe(description);
export const jsonObject = (description: string) =>
  z.record(z.string(), z.unknown()).describe(description);
