/**
 * The checks behind `npm run check-config` (scripts/check-config.ts), as a
 * function so that the tests run them in one process. See the script for
 * what is checked; every problem names a variable or binding and a rule,
 * never a value.
 */
import { SECRET_NAMES } from "../../src/config/env";
import { DEFAULTS, parseConfig } from "../../src/config/load";
import type { ConfigProblem } from "../../src/config/types";
import { configProblems } from "../../src/edge/routes/health";
import { DEV_ENTRY_SECRETS } from "./dev-vars.mjs";

// Wrangler's config reader logs its own warnings, which may quote wrangler.toml;
// check-config reports in its own words only.
process.env.WRANGLER_LOG = "none";
process.env.WRANGLER_SEND_METRICS = "false";

const PLACEHOLDER_KV_ID = /^0{32}$/;
const RATE_LIMITERS = ["API_RATE_LIMITER", "START_RATE_LIMITER", "CALLBACK_RATE_LIMITER"] as const;
const SECRETS = new Set<string>(SECRET_NAMES);
const DEV_ONLY = new Set<string>(Object.values(DEV_ENTRY_SECRETS));

export interface CheckInput {
  /** Absolute path of the wrangler configuration. */
  readonly configPath: string;
  /** `--env`: the [env.<name>] to check; undefined for the top level. */
  readonly envName?: string | undefined;
  /** Secrets from the env file and/or the environment; undefined: secrets not checked. */
  readonly secrets?: Readonly<Record<string, string>> | undefined;
}

export type CheckResult =
  | { readonly ok: true; readonly problems: ConfigProblem[]; readonly notes: string[] }
  | { readonly ok: false; readonly fatal: string };

export async function checkConfig({ configPath, envName, secrets: given }: CheckInput): Promise<CheckResult> {
  const problems: ConfigProblem[] = [];
  const notes: string[] = [];
  const where = envName ? `[env.${envName}]` : "the top level";
  const varsSection = envName ? `[env.${envName}.vars]` : "[vars]";
  const envFlag = envName ? ` --env ${envName}` : "";
  const secretsChecked = given !== undefined;
  const secrets: Record<string, string> = { ...given };

  // --- wrangler.toml, as wrangler reads it --------------------------------------
  const wrangler = await import("wrangler");
  const unreadable = {
    ok: false,
    fatal: `wrangler cannot read it; \`npx wrangler deploy --dry-run${envFlag}\` says why`,
  } as const;
  let raw: Record<string, unknown>;
  try {
    raw = wrangler.experimental_readRawConfig({ config: configPath }).rawConfig as Record<string, unknown>;
  } catch {
    return unreadable;
  }
  const environments = (raw.env ?? {}) as Record<string, Record<string, unknown>>;
  if (envName !== undefined && !Object.hasOwn(environments, envName)) {
    const known = Object.keys(environments).filter((name) => name !== "test");
    return {
      ok: false,
      fatal: `--env ${envName}: there is no [env.${envName}] (it has: ${known.join(", ") || "none"})`,
    };
  }
  let resolved: ReturnType<typeof wrangler.unstable_readConfig>;
  try {
    resolved = wrangler.unstable_readConfig({ config: configPath, env: envName }, { hideWarnings: true });
  } catch {
    return unreadable;
  }

  // --- variables and secrets -------------------------------------------------------
  const vars: Record<string, string> = {};
  for (const [name, value] of Object.entries(resolved.vars ?? {})) {
    if (typeof value === "string" || typeof value === "number") vars[name] = String(value);
    else problems.push({ variable: name, reason: `in ${varsSection} must be a string` });
  }
  if (envName !== undefined) {
    // A var set only at the top level does not reach the environment.
    const topLevel = (raw.vars ?? {}) as Record<string, unknown>;
    for (const [name, value] of Object.entries(topLevel)) {
      const text = typeof value === "string" ? value.trim() : String(value);
      const fallback = (DEFAULTS as Record<string, string>)[name];
      if (!Object.hasOwn(vars, name) && text !== "" && text !== fallback) {
        problems.push({
          variable: name,
          reason: `is set in the top-level [vars] but not in ${varsSection}: environments do not inherit vars`,
        });
      }
    }
  }

  for (const [name, value] of Object.entries(secrets)) {
    if (value.trim() === "") continue;
    if (Object.hasOwn(vars, name)) {
      problems.push({
        variable: name,
        reason: `is a var in ${varsSection} and a secret in the env file: wrangler refuses a secret with a var's name; keep one`,
      });
    } else if (!SECRETS.has(name)) {
      notes.push(`${name} in the env file is not a secret this worker reads (a typo?)`);
    }
    if (DEV_ONLY.has(value)) {
      problems.push({
        variable: name,
        reason: "is the published dev-only value from .dev.vars.example: generate one with openssl rand -base64 32",
      });
    }
  }

  const env = { ...vars, ...secrets } as unknown as Env;
  let parsed = parseConfig(env);
  if (!parsed.ok) {
    problems.push(...parsed.error.problems);
    // The worker stops at a bad global setting; to name every problem at
    // once, look again with those settings at their defaults.
    const cleared = Object.fromEntries(parsed.error.problems.map((p) => [p.variable, ""]));
    parsed = parseConfig({ ...env, ...cleared });
  }
  if (parsed.ok) {
    for (const problem of configProblems(parsed.config)) {
      if (problems.some((p) => p.variable === problem.variable)) continue;
      const { variable, reason } = problem;
      const zone = "zone" in problem && problem.zone ? ` (zone ${problem.zone})` : "";
      const secret = SECRETS.has(variable.split(" ")[0] ?? "");
      // Without an env file the secrets live only in Cloudflare: nothing to check here.
      if (secret && !secretsChecked) continue;
      problems.push({ variable, reason: `${reason}${zone}` });
    }
  }
  for (const name of ["PUBLIC_ORIGINS", "RETURN_ORIGINS"]) {
    if ((env[name as keyof Env] ?? "").toString().trim() === "" && !problems.some((p) => p.variable === name)) {
      problems.push({
        variable: name,
        reason:
          name === "PUBLIC_ORIGINS"
            ? `is empty in ${varsSection}: no connection can start; list this deployment's custom domains`
            : `is empty in ${varsSection}: no return URL is allowed, so no user can be sent back; list your application's origins`,
      });
    }
  }

  // --- bindings ----------------------------------------------------------------------
  const kv = resolved.kv_namespaces.find((ns) => ns.binding === "CONNECTIONS");
  if (!kv) problems.push({ variable: "CONNECTIONS", reason: `no [[kv_namespaces]] binding in ${where}` });
  else if (!kv.id || PLACEHOLDER_KV_ID.test(kv.id)) {
    problems.push({
      variable: "CONNECTIONS",
      reason: `the KV namespace id in ${where} is the placeholder: run \`npx wrangler kv namespace create CONNECTIONS${envFlag}\` and put the id it prints in wrangler.toml`,
    });
  }
  for (const name of RATE_LIMITERS) {
    if (!resolved.ratelimits.some((limiter) => limiter.name === name)) {
      problems.push({ variable: name, reason: `no [[ratelimits]] binding in ${where}: requests would go unlimited` });
    }
  }
  const webhookUrl = (env as unknown as Record<string, unknown>).WEBHOOK_URL;
  if (typeof webhookUrl === "string" && webhookUrl.trim() !== "") {
    const producers = resolved.queues.producers ?? [];
    const consumers = resolved.queues.consumers ?? [];
    const main = producers.find((p) => p.binding === "WEBHOOKS");
    const dlq = producers.find((p) => p.binding === "WEBHOOKS_DLQ");
    if (!main) problems.push({ variable: "WEBHOOKS", reason: `WEBHOOK_URL is set but ${where} has no queue producer` });
    if (!dlq)
      problems.push({ variable: "WEBHOOKS_DLQ", reason: `WEBHOOK_URL is set but ${where} has no queue producer` });
    const consumer = main && consumers.find((c) => c.queue === main.queue);
    if (main && !consumer) {
      problems.push({ variable: "WEBHOOKS", reason: `no [[queues.consumers]] in ${where} for the WEBHOOKS queue` });
    } else if (consumer && (!consumer.dead_letter_queue || (dlq && consumer.dead_letter_queue !== dlq.queue))) {
      problems.push({
        variable: "WEBHOOKS",
        reason: `the WEBHOOKS queue's consumer in ${where} needs dead_letter_queue = the WEBHOOKS_DLQ queue`,
      });
    }
  }
  if (resolved.workers_dev !== false) {
    problems.push({
      variable: "workers_dev",
      reason: `must be false in ${where}: a *.workers.dev hostname would answer outside PUBLIC_ORIGINS`,
    });
  }

  return { ok: true, problems, notes };
}
