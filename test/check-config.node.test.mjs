// `npm run check-config`, run as a deploy runs it: the fixture in
// test/fixtures/check-config (a complete configuration, top level and
// [env.production], with a complete env file) passes, and each problem the
// script names is produced by breaking that fixture in one place. No run may
// print a secret's value. The repository's own wrangler.toml passes with a
// complete env file except for the placeholders it ships with.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { tsImport } from "tsx/esm/api";
import { readDevVars } from "../scripts/lib/dev-vars.mjs";

const run = promisify(execFile);
const ROOT = resolve(fileURLToPath(import.meta.url), "../..");
const FIXTURES = join(ROOT, "test/fixtures/check-config");
const TOML = readFileSync(join(FIXTURES, "wrangler.toml"), "utf8");
const ENV_FILE = readFileSync(join(FIXTURES, "complete.env"), "utf8");
const TSX = join(ROOT, "node_modules/tsx/dist/cli.mjs");
const SCRIPT = join(ROOT, "scripts/check-config.ts");
/** Every secret value any test writes: none may appear in the output. */
const SECRET_VALUES = [...ENV_FILE.matchAll(/^[A-Z_]+=(.+)$/gm)].map((m) => m[1]);

const { checkConfig } = await tsImport("../scripts/lib/check-config.ts", import.meta.url);

/** Writes the texts to a fresh folder: wrangler.toml and, unless null, secrets.env. */
function files(toml, envFile) {
  const dir = mkdtempSync(join(tmpdir(), "check-config-"));
  writeFileSync(join(dir, "wrangler.toml"), toml);
  if (envFile !== null) writeFileSync(join(dir, "secrets.env"), envFile);
  return { config: join(dir, "wrangler.toml"), envFile: envFile === null ? undefined : join(dir, "secrets.env") };
}

function assertNoSecret(output, extra = []) {
  for (const value of [...SECRET_VALUES, ...extra]) {
    assert.ok(!output.includes(value), `the output shows a secret value:\n${output}`);
  }
}

/**
 * The checks in this process (scripts/lib/check-config.ts, what the script
 * runs): the problems named, by variable, and the whole answer as text.
 * `envFile: null`: no env file, secrets not checked.
 */
async function check({ toml = TOML, envFile = ENV_FILE, args = [] } = {}) {
  const paths = files(toml, envFile);
  const envIndex = args.indexOf("--env");
  const result = await checkConfig({
    configPath: paths.config,
    envName: envIndex >= 0 ? args[envIndex + 1] : undefined,
    secrets: paths.envFile ? readDevVars(paths.envFile) : undefined,
  });
  const output = JSON.stringify(result);
  assertNoSecret(output);
  const problems = result.ok ? result.problems.map((p) => p.variable.split(" ")[0]) : ["(fatal)"];
  const stdout = result.ok ? result.problems.map((p) => `${p.variable}: ${p.reason}`).join("\n") : result.fatal;
  return { code: result.ok && result.problems.length === 0 ? 0 : 1, result, output, problems, stdout };
}

/** `npm run check-config` itself, as a deploy runs it: exit code and output. */
async function cli({ toml = TOML, envFile = ENV_FILE, args = [], env = {} } = {}) {
  const paths = files(toml, envFile);
  const fileArgs = paths.envFile ? ["--env-file", paths.envFile] : [];
  const result = await run(process.execPath, [TSX, SCRIPT, "--config", paths.config, ...fileArgs, ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...env },
  }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error) => ({ code: error.code, stdout: error.stdout, stderr: error.stderr }),
  );
  const output = result.stdout + result.stderr;
  assertNoSecret(output, Object.values(env));
  const problems = [...result.stdout.matchAll(/^ {2}- (\S+)/gm)].map((m) => m[1].replace(/:$/, ""));
  return { ...result, output, problems };
}

/** The fixture with one change, asserting the change applied. */
function toml(from, to, text = TOML) {
  const changed = text.replace(from, to);
  assert.notEqual(changed, text, `the change ${from} did not apply`);
  return changed;
}

/** Both the top level and [env.production], broken the same way. */
const PROD = ["--env", "production"];

describe("check-config: the complete fixture", () => {
  it("passes at the top level and for [env.production], with the secrets checked", async () => {
    for (const args of [[], PROD]) {
      const result = await check({ args });
      assert.equal(result.code, 0, result.output);
      assert.deepEqual(result.result.notes, []);
    }
  });
});

describe("npm run check-config (the script)", () => {
  it("prints OK and exits 0 for the complete fixture", async () => {
    const result = await cli({ args: PROD });
    assert.equal(result.code, 0, result.output);
    assert.match(result.stdout, /\[env\.production\] \+ .*secrets\.env: OK$/m);
    assert.doesNotMatch(result.stdout, /secrets not checked/);
  });

  it("exits 1 listing each problem by name, never a value, and says when secrets were not checked", async () => {
    const bad = await cli({ envFile: ENV_FILE.replace(/^ADMIN_TOKEN=.*$/m, "ADMIN_TOKEN=short-SECRET-5") });
    assert.equal(bad.code, 1, bad.output);
    assert.deepEqual(bad.problems, ["ADMIN_TOKEN"]);
    assert.match(bad.stdout, /1 problem\n {2}- ADMIN_TOKEN: must be 32-4096/);
    assert.ok(!bad.output.includes("short-SECRET-5"));
    const noSecrets = await cli({ envFile: null });
    assert.equal(noSecrets.code, 0, noSecrets.output);
    assert.match(noSecrets.stdout, /secrets not checked/);
  });

  it("reads the secrets from the environment with --secrets-from-env (the deploy workflow)", async () => {
    const secrets = Object.fromEntries([...ENV_FILE.matchAll(/^([A-Z_]+)=(.+)$/gm)].map((m) => [m[1], m[2]]));
    const bad = await cli({
      envFile: null,
      args: ["--secrets-from-env", ...PROD],
      env: { ...secrets, LINK_SIGNING_KEY: "too-short-SECRET-7" },
    });
    assert.equal(bad.code, 1, bad.output);
    assert.deepEqual(bad.problems, ["LINK_SIGNING_KEY"]);
    assert.match(bad.stdout, /secrets from the environment/);
  });

  it("an unknown --env exits 1 naming the environments there are", async () => {
    const result = await cli({ args: ["--env", "prod"] });
    assert.equal(result.code, 1);
    assert.match(result.stdout, /--env prod: there is no \[env\.prod\] \(it has: production\)/);
  });

  it("exits 2 on a usage error", async () => {
    assert.equal((await cli({ args: ["--bogus"] })).code, 2);
    assert.equal((await cli({ args: ["--env", "../x"] })).code, 2);
  });
});

describe("check-config: each problem it names", () => {
  const cases = [
    [
      "the placeholder KV id",
      { toml: toml('id = "a1b2c3d4e5f60718293a4b5c6d7e8f90"', 'id = "00000000000000000000000000000000"'), args: PROD },
      ["CONNECTIONS"],
      /kv namespace create CONNECTIONS --env production/,
    ],
    [
      "empty RETURN_ORIGINS",
      { toml: toml('RETURN_ORIGINS = "https://app.example.com"', 'RETURN_ORIGINS = ""') },
      ["RETURN_ORIGINS"],
      /no return URL is allowed/,
    ],
    [
      "empty PUBLIC_ORIGINS",
      { toml: toml('PUBLIC_ORIGINS = "https://connect.example.com"', 'PUBLIC_ORIGINS = ""') },
      ["PUBLIC_ORIGINS"],
      /no connection can start/,
    ],
    [
      "a missing rate limiter",
      { toml: toml(/\[\[env\.production\.ratelimits\]\]\nname = "START_RATE_LIMITER"\n.*\n.*\n/, ""), args: PROD },
      ["START_RATE_LIMITER"],
      /no \[\[ratelimits\]\] binding in \[env\.production\]/,
    ],
    [
      "a missing KV binding",
      { toml: toml(/\[\[kv_namespaces\]\]\nbinding = "CONNECTIONS"\n.*\n/, "") },
      ["CONNECTIONS"],
      /no \[\[kv_namespaces\]\] binding/,
    ],
    [
      "an invalid var",
      { toml: toml('CALLBACK_MODE = "relay"', 'CALLBACK_MODE = "bounce"') },
      ["CALLBACK_MODE"],
      /must be relay or exchange/,
    ],
    [
      "an out-of-range number",
      { toml: toml('PEAKA_TIMEOUT_MS = "10000"\n\n[env', 'PEAKA_TIMEOUT_MS = "5"\n\n[env') },
      ["PEAKA_TIMEOUT_MS"],
      /whole number from 100 to 60000/,
    ],
    [
      "a bad secret (too short)",
      { envFile: ENV_FILE.replace(/^ADMIN_TOKEN=.*$/m, "ADMIN_TOKEN=short-SECRET-5") },
      ["ADMIN_TOKEN"],
      /32-4096 printable ASCII/,
    ],
    [
      "a bad previous secret during a rotation",
      { envFile: `${ENV_FILE}LINK_SIGNING_KEY_PREVIOUS=old key with spaces SECRET-6 0123456789\n` },
      ["LINK_SIGNING_KEY_PREVIOUS"],
      /printable ASCII/,
    ],
    [
      "a published dev-only secret",
      {
        envFile: ENV_FILE.replace(
          /^RESULT_SIGNING_KEY=.*$/m,
          "RESULT_SIGNING_KEY=dev-only-result-signing-key-change-me-0123456789",
        ),
      },
      ["RESULT_SIGNING_KEY"],
      /dev-only value/,
    ],
    [
      "a missing Peaka API key",
      { envFile: ENV_FILE.replace(/^PEAKA_API_KEY=.*\n/m, "") },
      ["PEAKA_US_API_KEY"],
      /is not set \(zone us\)/,
    ],
    [
      "a secret that is also a var",
      { envFile: `${ENV_FILE}PEAKA_PROJECT_ID=proj_other\n` },
      ["PEAKA_PROJECT_ID"],
      /refuses a secret with a var's name/,
    ],
    [
      "webhooks configured without queues",
      { toml: toml(/\[\[env\.production\.queues\.producers\]\][\s\S]*?(?=\[env\.production\.vars\])/, ""), args: PROD },
      ["WEBHOOKS", "WEBHOOKS_DLQ"],
      /WEBHOOK_URL is set but \[env\.production\] has no queue producer/,
    ],
    [
      "a webhook consumer without its dead-letter queue",
      { toml: toml('dead_letter_queue = "peaka-connect-webhooks-dlq"\n', "") },
      ["WEBHOOKS"],
      /dead_letter_queue/,
    ],
    [
      "workers_dev = true",
      { toml: toml("[env.production]\nworkers_dev = false", "[env.production]\nworkers_dev = true"), args: PROD },
      ["workers_dev"],
      /must be false in \[env\.production\]/,
    ],
    [
      "workers_dev left out (wrangler's default is true)",
      { toml: toml(/^workers_dev = false\n/m, "") },
      ["workers_dev"],
      /must be false/,
    ],
    [
      "a var set only at the top level (environments do not inherit vars)",
      { toml: toml(/(\[env\.production\.vars\][\s\S]*)RETURN_ORIGINS = .*\n/, "$1"), args: PROD },
      ["RETURN_ORIGINS"],
      /not in \[env\.production\.vars\]: environments do not inherit vars/,
    ],
  ];
  for (const [name, input, expected, reason] of cases) {
    it(name, async () => {
      const result = await check(input);
      assert.equal(result.code, 1, result.output);
      assert.deepEqual(result.problems, expected, result.output);
      assert.match(result.stdout, reason);
    });
  }

  it("names every problem at once", async () => {
    let text = toml('CALLBACK_MODE = "relay"', 'CALLBACK_MODE = "bounce"');
    text = toml(/^workers_dev = false\n/m, "", text);
    text = toml('id = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"', 'id = "00000000000000000000000000000000"', text);
    const result = await check({
      toml: text,
      envFile: ENV_FILE.replace(/^ADMIN_TOKEN=.*$/m, "ADMIN_TOKEN=short-SECRET-5"),
    });
    assert.equal(result.code, 1);
    assert.deepEqual(new Set(result.problems), new Set(["CALLBACK_MODE", "ADMIN_TOKEN", "CONNECTIONS", "workers_dev"]));
  });

  it("an unknown --env", async () => {
    const result = await check({ args: ["--env", "prod"] });
    assert.equal(result.code, 1);
    assert.equal(result.result.fatal, "--env prod: there is no [env.prod] (it has: production)");
  });
});

describe("check-config: the repository's wrangler.toml", () => {
  const repoToml = readFileSync(join(ROOT, "wrangler.toml"), "utf8");
  for (const env of ["staging", "production"]) {
    it(`[env.${env}] with a complete env file: only the placeholders to fill in`, async () => {
      const result = await check({ toml: repoToml, args: ["--env", env] });
      assert.equal(result.code, 1);
      assert.deepEqual(
        new Set(result.problems),
        new Set(["CONNECTIONS", "PUBLIC_ORIGINS", "RETURN_ORIGINS", "PEAKA_US_PROJECT_ID"]),
        result.output,
      );
    });
  }

  it("filled in, [env.production] passes", async () => {
    const filled = repoToml
      .replace(
        /(\[\[env\.production\.kv_namespaces\]\][\s\S]*?)id = "0{32}"/,
        '$1id = "a1b2c3d4e5f60718293a4b5c6d7e8f90"',
      )
      .replace(/(\[env\.production\.vars\][\s\S]*?)PEAKA_PROJECT_ID = ""/, '$1PEAKA_PROJECT_ID = "proj_1"')
      .replace(
        /(\[env\.production\.vars\][\s\S]*?)PUBLIC_ORIGINS = ""/,
        '$1PUBLIC_ORIGINS = "https://connect.example.com"',
      )
      .replace(
        /(\[env\.production\.vars\][\s\S]*?)RETURN_ORIGINS = ""/,
        '$1RETURN_ORIGINS = "https://app.example.com"',
      );
    const result = await check({ toml: filled, args: PROD });
    assert.equal(result.code, 0, result.output);
  });
});
