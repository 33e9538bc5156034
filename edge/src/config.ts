/**
 * Parsed Worker configuration (vars and secrets), computed once per isolate per env object. Every
 * request starts by reading it (app.ts), so a wrong configuration fails the first request with a
 * 500 `misconfigured` that names the variable, and never runs half-configured.
 */
import { z } from "zod";
import { STREAMS } from "../../contracts/records.js";
import { DEFAULT_CDC_PII_FIELDS, DEFAULT_EVENT_PII_FIELDS, DEFAULT_HUBSPOT_PII_PROPERTIES, DEFAULT_WEBHOOK_PII_FIELDS } from "./enrich/pii-defaults.js";

export type EdgeEnv = Env & {
  GCP_SA_KEY?: string;
  CONSENT_CATEGORY?: string;
  PUBLIC_BASE_URL?: string;
  PII_FIELDS?: string;
  WEBHOOK_PII_FIELDS?: string;
  HUBSPOT_PII_PROPERTIES?: string;
  CDC_PII_FIELDS?: string;
};

/** Environments the Worker knows; anything else is a configuration error (a typo must not mean "dev"). */
export const ENVIRONMENTS = ["dev", "staging", "production"] as const;

/** The configuration is wrong: not the client's fault, and retrying will not help. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

const jsonOf = <T extends z.ZodType>(name: string, shape: T, what: string) =>
  z
    .string()
    .optional()
    .transform((s, ctx): z.infer<T> | undefined => {
      if (s === undefined || s === "") return undefined;
      let value: unknown;
      try {
        value = JSON.parse(s);
      } catch {
        ctx.addIssue({ code: "custom", message: `${name} is not JSON; it must be ${what}` });
        return z.NEVER;
      }
      const parsed = shape.safeParse(value);
      if (!parsed.success) {
        ctx.addIssue({ code: "custom", message: `${name} must be ${what}` });
        return z.NEVER;
      }
      return parsed.data;
    });

const stringMap = (name: string) => jsonOf(name, z.record(z.string(), z.string()), "a JSON object of strings").transform((m) => m ?? {});

/** A list of dot paths ("traits.email,context.traits.phone"); unset means the defaults, "" means none. */
const pathList = (defaults: readonly string[]) =>
  z
    .string()
    .optional()
    .transform((s) => (s === undefined ? defaults : s.split(",")).map((p) => p.trim()).filter(Boolean).map((p) => p.split(".")));

const pathMap = (name: string, defaults: Record<string, readonly string[]>) =>
  jsonOf(name, z.record(z.string(), z.array(z.string())), "a JSON object of name → list of dot paths").transform((m) =>
    Object.fromEntries(Object.entries(m ?? defaults).map(([k, paths]) => [k, paths.map((p) => p.split("."))])),
  );

const SOURCE_NAME = /^[a-z0-9][a-z0-9_-]{0,63}$/;

/** A bulk upload credential: which source its records belong to and which streams it may load. */
export const BulkGrant = z.object({
  source: z.string().regex(SOURCE_NAME, "a source name: lowercase letters, digits, - and _"),
  streams: z.array(z.enum(STREAMS)).min(1),
});
export type BulkGrant = z.infer<typeof BulkGrant>;

const ConfigSchema = z.object({
  ENVIRONMENT: z.enum(ENVIRONMENTS, { message: `ENVIRONMENT must be one of ${ENVIRONMENTS.join(", ")}` }).default("production"),
  WRITE_KEYS: stringMap("WRITE_KEYS"),
  WEBHOOK_SECRETS: stringMap("WEBHOOK_SECRETS"),
  BULK_TOKENS: jsonOf("BULK_TOKENS", z.record(z.string().min(16, "bulk tokens must be at least 16 characters"), BulkGrant), 'a JSON object of token → {"source": "<name>", "streams": ["events" | "webhooks" | "cdc", …]}').transform((m) => m ?? {}),
  SHOPIFY_SECRET: z.string().optional(),
  HUBSPOT_SECRET: z.string().optional(),
  CDC_TOKEN: z.string().optional(),
  IP_MODE: z.enum(["truncate", "hash", "drop"]).default("truncate"),
  IP_HASH_KEY: z.string().optional(),
  PII_HASH_KEY: z.string().optional(),
  PII_FIELDS: pathList(DEFAULT_EVENT_PII_FIELDS),
  WEBHOOK_PII_FIELDS: pathMap("WEBHOOK_PII_FIELDS", DEFAULT_WEBHOOK_PII_FIELDS),
  HUBSPOT_PII_PROPERTIES: z
    .string()
    .optional()
    .transform((s) => new Set((s === undefined ? DEFAULT_HUBSPOT_PII_PROPERTIES : s.split(",")).map((p) => p.trim().toLowerCase()).filter(Boolean))),
  CDC_PII_FIELDS: pathMap("CDC_PII_FIELDS", DEFAULT_CDC_PII_FIELDS),
  CONSENT_MODE: z.enum(["strip", "drop"]).default("strip"),
  CONSENT_REQUIRED: z
    .string()
    .optional()
    .transform((s) => s === "true"),
  CONSENT_CATEGORY: z.string().default("analytics"),
  PUBLIC_BASE_URL: z.string().optional(),
});

export type EdgeConfig = z.infer<typeof ConfigSchema> & {
  /** dev: local development (X-Real-IP and CF-IPCountry are believed); staging/production: only Cloudflare's values. */
  trustClientHeaders: boolean;
};

/** Secrets that hold credentials or keys, as [variable, values]. */
function secretsOf(c: z.infer<typeof ConfigSchema>): [string, (string | undefined)[]][] {
  return [
    ["WRITE_KEYS", Object.keys(c.WRITE_KEYS)],
    ["BULK_TOKENS", Object.keys(c.BULK_TOKENS)],
    ["WEBHOOK_SECRETS", Object.values(c.WEBHOOK_SECRETS)],
    ["SHOPIFY_SECRET", [c.SHOPIFY_SECRET]],
    ["HUBSPOT_SECRET", [c.HUBSPOT_SECRET]],
    ["CDC_TOKEN", [c.CDC_TOKEN]],
    ["IP_HASH_KEY", [c.IP_HASH_KEY]],
    ["PII_HASH_KEY", [c.PII_HASH_KEY]],
  ];
}

/** What is wrong with a parsed configuration beyond its shape, one sentence per problem. */
function problems(c: z.infer<typeof ConfigSchema>): string[] {
  const out: string[] = [];
  if (c.ENVIRONMENT !== "dev") {
    // The documented local defaults are public: outside development they would let anyone in.
    const local = secretsOf(c)
      .filter(([, values]) => values.some((v) => v?.startsWith("local_")))
      .map(([name]) => name);
    if (local.length) out.push(`${local.join(", ")} ${local.length === 1 ? "holds" : "hold"} a local development value (local_…) in ENVIRONMENT=${c.ENVIRONMENT}: set real secrets with \`wrangler secret put <NAME> --env ${c.ENVIRONMENT}\``);
    if (!c.PII_HASH_KEY) out.push(`PII_HASH_KEY is missing in ENVIRONMENT=${c.ENVIRONMENT}: PII fields cannot be pseudonymized without it`);
  }
  if (c.IP_MODE === "hash" && !c.IP_HASH_KEY) out.push("IP_MODE=hash needs the IP_HASH_KEY secret");
  for (const [token, grant] of Object.entries(c.BULK_TOKENS)) {
    if (Object.keys(c.WRITE_KEYS).includes(token)) out.push(`a BULK_TOKENS token (source ${grant.source}) is also a write key: bulk tokens are server-side credentials and must differ from the public write keys`);
  }
  return out;
}

const cache = new WeakMap<object, EdgeConfig | ConfigError>();

export function config(env: EdgeEnv): EdgeConfig {
  let c = cache.get(env);
  if (!c) {
    const parsed = ConfigSchema.safeParse(env);
    if (!parsed.success) {
      c = new ConfigError(`edge configuration is invalid: ${parsed.error.issues.map((i) => (i.path.length && !i.message.startsWith(String(i.path[0])) ? `${i.path.join(".")}: ${i.message}` : i.message)).join("; ")}`);
    } else {
      const wrong = problems(parsed.data);
      c = wrong.length ? new ConfigError(`edge configuration is invalid: ${wrong.join("; ")}`) : { ...parsed.data, trustClientHeaders: parsed.data.ENVIRONMENT === "dev" };
    }
    cache.set(env, c);
  }
  if (c instanceof ConfigError) throw c;
  return c;
}
