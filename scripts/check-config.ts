#!/usr/bin/env -S npx tsx
/**
 * `npm run check-config -- [--env staging|production] [--env-file PATH] [--secrets-from-env] [--config PATH]`
 *
 * Checks a deployment's configuration offline, before `wrangler deploy`:
 * the vars of wrangler.toml (the top level, or `[env.<name>]` with --env),
 * the secrets of an env file (dotenv, like .dev.vars) and, with
 * --secrets-from-env, of the shell's environment (the deploy workflow), all
 * parsed by the worker's own code (src/config/load.ts parseConfig, and the
 * /healthz rules in src/edge/routes/health.ts), plus what the worker needs
 * from wrangler.toml itself: the CONNECTIONS KV namespace with a real id, the
 * three rate limiters, the webhook queues when WEBHOOK_URL is set, and
 * workers_dev = false.
 *
 * wrangler.toml is read with wrangler's own config reader (the pinned
 * wrangler's, so exactly as `wrangler deploy --env <name>` reads it):
 * an environment inherits neither [vars] nor bindings from the top level.
 *
 * Every problem is named by variable or binding and a rule, never a value.
 * Exit 0: no problem; 1: problems (listed); 2: usage.
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { SECRET_NAMES } from "../src/config/env";
import { checkConfig } from "./lib/check-config";
import { readDevVars } from "./lib/dev-vars.mjs";

const USAGE = `Usage: npm run check-config -- [--env NAME] [--env-file PATH] [--secrets-from-env] [--config PATH]

  --env NAME          check [env.NAME] of wrangler.toml (staging, production): environments
                      inherit neither [vars] nor bindings, so only that section counts
  --env-file PATH     secrets in dotenv format (NAME=value, like .dev.vars); without it (and
                      without --secrets-from-env) secrets are not checked
  --secrets-from-env  read the worker's secrets from this shell's environment (CI)
  --config PATH       the wrangler configuration; default wrangler.toml

Exits 1 naming every problem by variable or binding (never a value), 2 on a usage error.`;

function usage(message: string): never {
  process.stderr.write(`check-config: ${message}\n\n${USAGE}\n`);
  process.exit(2);
}

let args: ReturnType<typeof parse>;
function parse() {
  return parseArgs({
    options: {
      env: { type: "string" },
      "env-file": { type: "string" },
      "secrets-from-env": { type: "boolean" },
      config: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  }).values;
}
try {
  args = parse();
} catch (error) {
  usage(error instanceof Error ? error.message : String(error));
}
if (args.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}

const configPath = resolve(args.config ?? "wrangler.toml");
if (!existsSync(configPath)) usage(`no wrangler configuration at ${args.config ?? "wrangler.toml"}`);
const envName = args.env;
if (envName !== undefined && !/^[A-Za-z0-9_-]+$/.test(envName)) usage("--env must be an environment name");

const configName = args.config ?? "wrangler.toml";

let secrets: Record<string, string> | undefined;
if (args["env-file"] !== undefined) {
  const file = readDevVars(resolve(args["env-file"]));
  if (file === undefined) usage(`cannot read the env file ${args["env-file"]}`);
  secrets = { ...file };
}
if (args["secrets-from-env"]) {
  secrets ??= {};
  for (const name of SECRET_NAMES) {
    const value = process.env[name];
    if (value !== undefined && value !== "" && !Object.hasOwn(secrets, name)) secrets[name] = value;
  }
}

const result = await checkConfig({ configPath, envName, secrets });
if (!result.ok) {
  process.stdout.write(`check-config: ${configName}: 1 problem\n  - ${result.fatal}\n`);
  process.exit(1);
}
const { problems, notes } = result;
const scope = `${configName} ${envName ? `[env.${envName}]` : "(top level)"}${args["env-file"] ? ` + ${args["env-file"]}` : ""}${args["secrets-from-env"] ? " + secrets from the environment" : ""}`;
for (const note of notes) process.stdout.write(`check-config: note: ${note}\n`);
if (secrets === undefined) {
  process.stdout.write("check-config: note: secrets not checked (pass --env-file PATH or --secrets-from-env)\n");
}
if (problems.length === 0) {
  process.stdout.write(`check-config: ${scope}: OK\n`);
  process.exit(0);
}
process.stdout.write(
  `check-config: ${scope}: ${problems.length} problem${problems.length === 1 ? "" : "s"}\n${problems
    .map((p) => `  - ${p.variable}: ${p.reason}`)
    .join("\n")}\n`,
);
process.exit(1);
