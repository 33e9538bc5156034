/**
 * The Terraform configuration of infra/terraform, parsed (HCL → JSON with @cdktf/hcl2json) and
 * merged across its files, for the policy tests. Literal values (the grant list, lifecycle defaults,
 * the perimeter's services) are data here; expressions stay as `${…}` strings.
 */
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { parse } from "@cdktf/hcl2json";

export const TERRAFORM_DIR = import.meta.dirname;

// hcl2json's output is untyped JSON; the tests narrow what they read.
export type Block = Record<string, any>;

export interface TerraformConfig {
  /** type → name → body (hcl2json gives one body per block). */
  resources: Record<string, Record<string, Block>>;
  data: Record<string, Record<string, Block>>;
  variables: Record<string, Block>;
  locals: Block;
  terraform: Block[];
  files: string[];
}

export async function loadConfig(dir = TERRAFORM_DIR): Promise<TerraformConfig> {
  const files = readdirSync(dir).filter((f) => f.endsWith(".tf")).sort();
  const out: TerraformConfig = { resources: {}, data: {}, variables: {}, locals: {}, terraform: [], files };
  for (const f of files) {
    const j = (await parse(f, readFileSync(join(dir, f), "utf8"))) as Block;
    for (const [kind, target] of [
      ["resource", out.resources],
      ["data", out.data],
    ] as const) {
      for (const [type, byName] of Object.entries((j[kind] ?? {}) as Record<string, Record<string, Block[]>>)) {
        for (const [name, bodies] of Object.entries(byName)) {
          if ((target[type] ??= {})[name]) throw new Error(`${type}.${name} is declared twice`);
          target[type][name] = bodies[0]!;
        }
      }
    }
    for (const [name, bodies] of Object.entries((j.variable ?? {}) as Record<string, Block[]>)) out.variables[name] = bodies[0]!;
    for (const l of (j.locals ?? []) as Block[]) {
      for (const [k, v] of Object.entries(l)) {
        if (k in out.locals) throw new Error(`local.${k} is declared twice`);
        out.locals[k] = v;
      }
    }
    out.terraform.push(...((j.terraform ?? []) as Block[]));
  }
  return out;
}

/** Every resource as [type, name, body]. */
export function allResources(c: TerraformConfig): [string, string, Block][] {
  return Object.entries(c.resources).flatMap(([type, byName]) => Object.entries(byName).map(([name, body]) => [type, name, body] as [string, string, Block]));
}

/** A single nested block (hcl2json wraps blocks in arrays). */
export const block = (b: Block | undefined, name: string): Block | undefined => (b?.[name] as Block[] | undefined)?.[0];
