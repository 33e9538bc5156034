/** Parsed Worker configuration (vars and secrets), computed once per isolate per env object. */
import { z } from "zod";

export type EdgeEnv = Env & { GCP_SA_KEY?: string; CONSENT_CATEGORY?: string; PUBLIC_BASE_URL?: string };

const jsonMap = (name: string) =>
  z
    .string()
    .optional()
    .transform((s, ctx) => {
      if (!s) return {} as Record<string, string>;
      try {
        return z.record(z.string(), z.string()).parse(JSON.parse(s));
      } catch {
        ctx.addIssue({ code: "custom", message: `${name} must be a JSON object of strings` });
        return z.NEVER;
      }
    });

const ConfigSchema = z.object({
  WRITE_KEYS: jsonMap("WRITE_KEYS"),
  WEBHOOK_SECRETS: jsonMap("WEBHOOK_SECRETS"),
  SHOPIFY_SECRET: z.string().optional(),
  HUBSPOT_SECRET: z.string().optional(),
  CDC_TOKEN: z.string().optional(),
  IP_MODE: z.enum(["truncate", "hash", "drop"]).default("truncate"),
  IP_HASH_KEY: z.string().optional(),
  PII_HASH_KEY: z.string().optional(),
  PII_FIELDS: z
    .string()
    .optional()
    .transform((s) => (s ?? "").split(",").map((p) => p.trim()).filter(Boolean).map((p) => p.split("."))),
  CONSENT_MODE: z.enum(["strip", "drop"]).default("strip"),
  CONSENT_REQUIRED: z
    .string()
    .optional()
    .transform((s) => s === "true"),
  CONSENT_CATEGORY: z.string().default("analytics"),
  PUBLIC_BASE_URL: z.string().optional(),
});

export type EdgeConfig = z.infer<typeof ConfigSchema>;

const cache = new WeakMap<object, EdgeConfig>();

export function config(env: EdgeEnv): EdgeConfig {
  let c = cache.get(env);
  if (!c) {
    const parsed = ConfigSchema.safeParse(env);
    if (!parsed.success) {
      throw new Error(`edge configuration is invalid: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
    }
    c = parsed.data;
    cache.set(env, c);
  }
  return c;
}
