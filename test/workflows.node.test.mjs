// The GitHub Actions workflows, checked without GitHub: each file is parsed
// as YAML and held to what the README and docs/operations.md promise. CI
// (ci.yml) runs the README's test command through .ci/run on Node 20 with
// Debian's Chromium; Deploy (deploy.yml) sends main to staging and version
// tags to production with the pinned wrangler, after the offline config
// check; every secret it names is documented; every action is pinned; every
// step has a name. Each rule is also tried against a broken copy, so a check
// that can no longer fail is caught too. actionlint runs when it is
// installed (it is not required).
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";

const ROOT = resolve(fileURLToPath(import.meta.url), "../..");
const read = (path) => readFileSync(join(ROOT, path), "utf8");
const CI_FILE = ".github/workflows/ci.yml";
const DEPLOY_FILE = ".github/workflows/deploy.yml";
const WRANGLER_VERSION = JSON.parse(read("package.json")).devDependencies.wrangler;
const ENVIRONMENTS = { staging: "main branch", production: "v* tag" };

/** The secret names docs/operations.md lists between its deploy-secrets markers. */
function documentedSecrets() {
  const doc = read("docs/operations.md");
  const section = /<!-- deploy-secrets -->([\s\S]*?)<!-- \/deploy-secrets -->/.exec(doc)?.[1];
  assert.ok(section, "docs/operations.md has no <!-- deploy-secrets --> section");
  return new Set([...section.matchAll(/^\|\s*`([A-Z][A-Z0-9_]*)`/gm)].map((m) => m[1]));
}

/** The README's test command, as .ci/run extracts it. */
function readmeTestCommand() {
  const block = /<!-- test-command -->([\s\S]*?)<!-- \/test-command -->/.exec(read("README.md"))?.[1] ?? "";
  return block
    .split("\n")
    .filter((line) => line.trim() !== "" && !line.startsWith("```"))
    .join("\n");
}

const steps = (job) => (Array.isArray(job?.steps) ? job.steps : []);
const jobsOf = (workflow) => Object.entries(workflow?.jobs ?? {});
const listOf = (value) => (value === undefined ? [] : Array.isArray(value) ? value : [value]);

/** Rules every workflow follows: named steps, pinned actions, Node 20, documented secrets. */
function commonProblems(name, text, workflow, secrets) {
  const problems = [];
  if (!workflow || typeof workflow !== "object") return [`${name}: not a YAML mapping`];
  if (jobsOf(workflow).length === 0) problems.push(`${name}: no jobs`);
  for (const [jobId, job] of jobsOf(workflow)) {
    if (typeof job.name !== "string" || job.name === "") problems.push(`${name}: job ${jobId} has no name`);
    steps(job).forEach((step, index) => {
      const where = `${name}: job ${jobId}, step ${index + 1}`;
      if (typeof step.name !== "string" || step.name.trim() === "") problems.push(`${where} has no name`);
      if (step.uses !== undefined) {
        const match = /^([\w.-]+\/[\w./-]+)@([\w.-]+)$/.exec(String(step.uses));
        if (!match) problems.push(`${where}: action ${step.uses} is not pinned to a version`);
        else if (!/^(v\d+(\.\d+){0,2}|[0-9a-f]{40})$/.test(match[2])) {
          problems.push(`${where}: action ${step.uses} is pinned to a branch, not a version or commit`);
        }
      }
      if (String(step.uses ?? "").startsWith("actions/setup-node@")) {
        if (String(step.with?.["node-version"]) !== "20") problems.push(`${where}: setup-node is not Node 20`);
        if (step.with?.cache !== "npm") problems.push(`${where}: setup-node does not cache npm`);
      }
    });
    const image = typeof job.container === "string" ? job.container : job.container?.image;
    if (image !== undefined && !/^node:20(\b|-)/.test(String(image))) {
      problems.push(`${name}: job ${jobId} runs in ${image}, not a Node 20 image`);
    }
    const setupNode = steps(job).some((step) => String(step.uses ?? "").startsWith("actions/setup-node@"));
    if (!setupNode) problems.push(`${name}: job ${jobId} does not set up Node with actions/setup-node`);
  }
  for (const match of text.matchAll(/\$\{\{\s*secrets\.([A-Za-z0-9_]+)\s*\}\}/g)) {
    if (!secrets.has(match[1])) problems.push(`${name}: secret ${match[1]} is not documented in docs/operations.md`);
  }
  if (/\$\{\{\s*secrets\[/.test(text) || /toJSON\(\s*secrets\s*\)/.test(text)) {
    problems.push(`${name}: secrets must be named one by one`);
  }
  return problems;
}

function ciProblems(text, secrets) {
  const workflow = parse(text);
  const problems = commonProblems("ci.yml", text, workflow, secrets);
  const on = workflow?.on ?? {};
  const events = Array.isArray(on) ? on : typeof on === "string" ? [on] : Object.keys(on);
  for (const event of ["push", "pull_request"]) {
    if (!events.includes(event)) problems.push(`ci.yml: not triggered on ${event}`);
  }
  const jobs = jobsOf(workflow);
  const runner = jobs.find(([, job]) => steps(job).some((step) => /\bbash \.ci\/run\b/.test(String(step.run ?? ""))));
  if (!runner) return [...problems, "ci.yml: no step runs `bash .ci/run` (the README's test command)"];
  const [jobId, job] = runner;
  if (job["runs-on"] !== "ubuntu-latest") problems.push(`ci.yml: job ${jobId} does not run on ubuntu-latest`);
  const list = steps(job);
  const runIndex = list.findIndex((step) => /\bbash \.ci\/run\b/.test(String(step.run ?? "")));
  const before = list.slice(0, runIndex);
  const chromium = before.findIndex((step) => /apt-get install\b[^\n]*\bchromium\b/.test(String(step.run ?? "")));
  if (chromium < 0)
    problems.push("ci.yml: Debian's Chromium is not installed (apt-get install chromium) before .ci/run");
  if (!before.some((step) => /cp \.dev\.vars\.example \.dev\.vars\b/.test(String(step.run ?? "")))) {
    problems.push("ci.yml: .dev.vars is not copied from .dev.vars.example before .ci/run");
  }
  if (!before.some((step) => String(step.uses ?? "").startsWith("actions/checkout@"))) {
    problems.push("ci.yml: the repository is not checked out before .ci/run");
  }
  return problems;
}

function deployProblems(text, secrets) {
  const workflow = parse(text);
  const problems = commonProblems("deploy.yml", text, workflow, secrets);
  const push = workflow?.on?.push ?? {};
  if (!listOf(push.branches).includes("main")) problems.push("deploy.yml: not triggered on pushes to main");
  if (!listOf(push.tags).some((tag) => /^v\*/.test(String(tag)))) {
    problems.push("deploy.yml: not triggered on v* tags");
  }
  if (workflow?.on?.pull_request !== undefined || workflow?.on?.pull_request_target !== undefined) {
    problems.push("deploy.yml: must not run on pull requests (they would reach the deploy secrets)");
  }
  for (const [env, trigger] of Object.entries(ENVIRONMENTS)) {
    const found = jobsOf(workflow).find(([, job]) => [job.environment, job.environment?.name].includes(env));
    if (!found) {
      problems.push(`deploy.yml: no job in the GitHub environment ${env}`);
      continue;
    }
    const [jobId, job] = found;
    const where = `deploy.yml: job ${jobId} (${env})`;
    const condition = String(job.if ?? "");
    const onlyOnTrigger =
      env === "staging"
        ? /github\.ref\s*==\s*'refs\/heads\/main'/.test(condition)
        : /startsWith\(\s*github\.ref\s*,\s*'refs\/tags\/v'\s*\)/.test(condition);
    if (!onlyOnTrigger) problems.push(`${where} does not run only on the ${trigger}`);
    const list = steps(job);
    const deployIndex = list.findIndex((step) => String(step.uses ?? "").startsWith("cloudflare/wrangler-action@"));
    if (deployIndex < 0) {
      problems.push(`${where} does not deploy with cloudflare/wrangler-action`);
      continue;
    }
    const deploy = list[deployIndex];
    const inputs = deploy.with ?? {};
    if (typeof inputs.wranglerVersion !== "string" || inputs.wranglerVersion !== WRANGLER_VERSION) {
      problems.push(`${where}: wranglerVersion is not the string "${WRANGLER_VERSION}" (package.json's wrangler)`);
    }
    if (String(inputs.command ?? "").trim() !== `deploy --env ${env}`) {
      problems.push(`${where}: command is not \`deploy --env ${env}\``);
    }
    if (inputs.environment !== env) problems.push(`${where}: secrets would not go to the ${env} worker (environment)`);
    if (!/^\$\{\{\s*secrets\.CLOUDFLARE_API_TOKEN\s*\}\}$/.test(String(inputs.apiToken ?? ""))) {
      problems.push(`${where}: apiToken is not secrets.CLOUDFLARE_API_TOKEN`);
    }
    if (!/^\$\{\{\s*secrets\.CLOUDFLARE_ACCOUNT_ID\s*\}\}$/.test(String(inputs.accountId ?? ""))) {
      problems.push(`${where}: accountId is not secrets.CLOUDFLARE_ACCOUNT_ID`);
    }
    for (const secret of String(inputs.secrets ?? "")
      .split("\n")
      .map((line) => line.trim())
      .filter(Boolean)) {
      if (!secrets.has(secret)) problems.push(`${where}: uploads undocumented secret ${secret}`);
      const source = String(deploy.env?.[secret] ?? "");
      if (!new RegExp(`^\\$\\{\\{\\s*secrets\\.${secret}\\s*\\}\\}$`).test(source)) {
        problems.push(`${where}: secret ${secret} is not taken from secrets.${secret}`);
      }
    }
    const check = list.findIndex((step) =>
      new RegExp(`npm run check-config\\b.*--\\s+--env ${env}\\b`).test(String(step.run ?? "")),
    );
    if (check < 0) problems.push(`${where}: no \`npm run check-config -- --env ${env}\` step`);
    else if (check > deployIndex) problems.push(`${where}: check-config runs after the deploy`);
    // The script exists now: --if-present would skip the check silently if it were renamed.
    else if (/--if-present/.test(String(list[check].run)))
      problems.push(`${where}: check-config step must not be --if-present`);
  }
  return problems;
}

/** `${{ secrets.NAME }}`, written so that no linter takes it for a template. */
const secretRef = (name) => ["$", "{{ secrets.", name, " }}"].join("");

const SECRETS = documentedSecrets();
const CI = read(CI_FILE);
const DEPLOY = read(DEPLOY_FILE);

describe("ci.yml", () => {
  it("runs the README's test command via .ci/run on Node 20 with Debian's Chromium", () => {
    assert.deepEqual(ciProblems(CI, SECRETS), []);
  });

  it(".ci/run runs the README's command, which is `npm ci && npm run test:all`", () => {
    assert.equal(readmeTestCommand(), "npm ci && npm run test:all");
    const run = read(".ci/run");
    assert.match(run, /<!-- test-command -->/);
    assert.match(run, /bash -euo pipefail -c "\$cmd"/);
  });

  it("fails on a broken copy", () => {
    const broken = [
      [CI.replace("node-version: 20", "node-version: 18"), /not Node 20/],
      [CI.replace("image: node:20-bookworm", "image: node:18-bookworm"), /not a Node 20 image/],
      [CI.replace("bash .ci/run", "npm test"), /no step runs `bash \.ci\/run`/],
      [CI.replace(/^ {2}pull_request:\n/m, ""), /not triggered on pull_request/],
      [CI.replace("actions/checkout@v4", "actions/checkout@main"), /pinned to a branch/],
      [CI.replace("uses: actions/setup-node@v4", "uses: actions/setup-node"), /not pinned/],
      [CI.replace("- name: Check out\n", "- "), /has no name/],
      [CI.replace(/chromium nginx/, "nginx"), /Chromium is not installed/],
      [CI.replace('CI: "true"', `CI: "true"\n          T: ${secretRef("NPM_TOKEN")}`), /NPM_TOKEN is not documented/],
    ];
    for (const [text, expected] of broken) {
      assert.notEqual(text, CI, `the mutation for ${expected} did not apply`);
      const problems = ciProblems(text, SECRETS);
      assert.ok(
        problems.some((p) => expected.test(p)),
        `expected ${expected} in ${JSON.stringify(problems)}`,
      );
    }
  });
});

describe("deploy.yml", () => {
  it("deploys staging from main and production from v* tags with the pinned wrangler after check-config", () => {
    assert.deepEqual(deployProblems(DEPLOY, SECRETS), []);
  });

  it("names only documented secrets: the Cloudflare pair and the worker's own", () => {
    const named = new Set([...DEPLOY.matchAll(/secrets\.([A-Za-z0-9_]+)/g)].map((m) => m[1]));
    for (const name of ["CLOUDFLARE_API_TOKEN", "CLOUDFLARE_ACCOUNT_ID", "PEAKA_API_KEY"]) {
      assert.ok(named.has(name), `deploy.yml uses ${name}`);
    }
    for (const name of named) assert.ok(SECRETS.has(name), `${name} is documented in docs/operations.md`);
  });

  it("fails on a broken copy", () => {
    const broken = [
      [DEPLOY.replace('wranglerVersion: "4.86.0"', "wranglerVersion: 4.86"), /wranglerVersion/],
      [DEPLOY.replace("command: deploy --env production", "command: deploy"), /command is not/],
      [DEPLOY.replace('tags: ["v*"]', "tags: []"), /not triggered on v\* tags/],
      [DEPLOY.replace("branches: [main]", "branches: [master]"), /not triggered on pushes to main/],
      [DEPLOY.replace("if: github.ref == 'refs/heads/main'", "if: true"), /does not run only on the main branch/],
      [DEPLOY.replace("cloudflare/wrangler-action@v3", "cloudflare/wrangler-action@main"), /pinned to a branch/],
      [DEPLOY.replace("check-config -- --env staging", "check-config"), /no `npm run check-config -- --env staging`/],
      [
        DEPLOY.replace(
          "run: npm run check-config -- --env production",
          "run: npm run check-config --if-present -- --env production",
        ),
        /check-config step must not be --if-present/,
      ],
      [DEPLOY.replace("environment: production\n    concurrency", "concurrency"), /environment production/],
      [DEPLOY.replace(/RESULT_SIGNING_KEY\n/, "RESULT_SIGNING_KEY\n            STRIPE_KEY\n"), /STRIPE_KEY/],
      [DEPLOY.replace("node-version: 20", "node-version: 18"), /not Node 20/],
    ];
    for (const [text, expected] of broken) {
      assert.notEqual(text, DEPLOY, `the mutation for ${expected} did not apply`);
      const problems = deployProblems(text, SECRETS);
      assert.ok(
        problems.some((p) => expected.test(p)),
        `expected ${expected} in ${JSON.stringify(problems)}`,
      );
    }
  });
});

describe("actionlint (when installed)", () => {
  const found = spawnSync("actionlint", ["-version"], { encoding: "utf8" });
  it("accepts both workflows", { skip: found.status === 0 ? false : "actionlint is not installed" }, () => {
    execFileSync("actionlint", [CI_FILE, DEPLOY_FILE], { cwd: ROOT, stdio: "pipe", encoding: "utf8" });
  });
});
