/**
 * `npm run report:hardening`: runs the hardening suite (test/hardening, in
 * the Workers pool) and the load test, then writes docs/hardening.md from
 * what they measured. Every number in the document comes from this run: the
 * tests record their counts in their own metadata, which vitest's JSON
 * reporter carries out; the load test writes artifacts/hardening/load.json.
 *
 *   --reuse-load   keep the last load.json instead of running the load test again
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import {
  HOSTILE_RETURN_URLS,
  HOSTILE_UNDER_WILDCARD,
  WILDCARD_LABEL,
  WILDCARD_ORIGINS,
} from "../test/fixtures/hostile-return-urls";
import type { AttackRow, CountName, HardeningCounts } from "../test/hardening/support/counts";
import type { NetworkFaultResult } from "./load/network-faults";
import type { ScenarioResult } from "./load/scenarios";

const ROOT = resolve(fileURLToPath(import.meta.url), "../..");
const OUT_DIR = join(ROOT, "artifacts", "hardening");
const VITEST_JSON = join(OUT_DIR, "vitest.json");
const LOAD_JSON = join(OUT_DIR, "load.json");
const DOC = join(ROOT, "docs", "hardening.md");

interface TestResult {
  ancestorTitles: string[];
  title: string;
  status: string;
  duration?: number;
  meta?: { hardening?: Partial<HardeningCounts>; attack?: AttackRow };
}

interface VitestReport {
  success: boolean;
  numTotalTests: number;
  numPassedTests: number;
  numFailedTests: number;
  testResults: { name: string; status: string; assertionResults: TestResult[] }[];
}

interface LoadReport {
  generatedAt: string;
  limits: Record<string, { amount: number; maxSeconds: number; connections: number }>;
  scenarios: ScenarioResult[];
  networkFaults: NetworkFaultResult[];
  totalSeconds: number;
}

const COUNTS: readonly CountName[] = [
  "inputsTried",
  "inputsAccepted",
  "propertyRuns",
  "faultsInjected",
  "undefinedOutcomes",
  "logLinesChecked",
  "secretsFound",
  "attacksTried",
  "attacksHeld",
];

type Counts = Record<CountName, number>;

function zero(): Counts {
  return Object.fromEntries(COUNTS.map((name) => [name, 0])) as Counts;
}

function add(into: Counts, from: Partial<HardeningCounts> | undefined): void {
  for (const name of COUNTS) into[name] += from?.[name] ?? 0;
}

function run(command: string, args: string[]): number {
  console.log(`report: ${command} ${args.join(" ")}`);
  return spawnSync(command, args, { cwd: ROOT, stdio: "inherit", env: process.env }).status ?? 1;
}

const n = (value: number) => value.toLocaleString("en-US");

/** A Markdown table: the first column left-aligned, the others right-aligned unless `left` names them. */
function table(head: string[], rows: (string | number)[][], left: ReadonlySet<number> = new Set()): string {
  const line = (cells: (string | number)[]) =>
    `| ${cells.map((c) => (typeof c === "number" ? n(c) : c.replaceAll("|", "\\|"))).join(" | ")} |`;
  const rule = head.map((_, i) => (i === 0 || left.has(i) ? "---" : "---:")).join("|");
  return [line(head), `|${rule}|`, ...rows.map(line)].join("\n");
}

/** The attacker's table (attacks.test.ts): each row's counts summed over its tests, in row order. */
function attackRows(report: VitestReport): { row: AttackRow; counts: Counts; passed: boolean }[] {
  const rows = new Map<number, { row: AttackRow; counts: Counts; passed: boolean }>();
  for (const file of report.testResults) {
    for (const test of file.assertionResults) {
      const row = test.meta?.attack;
      if (!row) continue;
      const entry = rows.get(row.row) ?? { row, counts: zero(), passed: true };
      add(entry.counts, test.meta?.hardening);
      entry.passed &&= test.status === "passed";
      rows.set(row.row, entry);
    }
  }
  return [...rows.values()].sort((a, b) => a.row.row - b.row.row);
}

interface Row {
  counts: Counts;
  passed: boolean;
}

/** Sums the recorded counts per file, per describe block and per test. */
function collect(report: VitestReport) {
  const byFile = new Map<string, { counts: Counts; passed: number; failed: number }>();
  const byGroup = new Map<string, Row & { file: string }>();
  const byTest: (Row & { file: string; name: string })[] = [];
  const total = zero();
  for (const file of report.testResults) {
    const name = relative(join(ROOT, "test", "hardening"), file.name).replace(/\.test\.ts$/, "");
    const entry = byFile.get(name) ?? { counts: zero(), passed: 0, failed: 0 };
    byFile.set(name, entry);
    for (const test of file.assertionResults) {
      const counts = zero();
      add(counts, test.meta?.hardening);
      add(entry.counts, counts);
      add(total, counts);
      const passed = test.status === "passed";
      if (passed) entry.passed++;
      else entry.failed++;
      byTest.push({ file: name, name: [...test.ancestorTitles, test.title].join(" › "), counts, passed });
      const groupName = test.ancestorTitles.join(" › ") || test.title;
      const group = byGroup.get(groupName) ?? { file: name, counts: zero(), passed: true };
      add(group.counts, counts);
      group.passed &&= passed;
      byGroup.set(groupName, group);
    }
  }
  return { byFile, byGroup, byTest, total };
}

function render(report: VitestReport, load: LoadReport | undefined, vitestExit: number, loadExit: number): string {
  const { byFile, byGroup, byTest, total } = collect(report);
  const fileCounts = (name: string) => byFile.get(name)?.counts ?? zero();
  const groups = (file: string) => [...byGroup].filter(([, g]) => g.file === file);
  const tests = (file: string) => byTest.filter((t) => t.file === file);
  const scenarios = load?.scenarios ?? [];
  const network = load?.networkFaults ?? [];
  const loadTotals = scenarios.reduce(
    (t, s) => ({
      requests: t.requests + s.requests,
      errors: t.errors + s.errors + s.wrongStatus,
      wrong: t.wrong + s.wrongRedirects,
      lost: t.lost + s.recordsLost,
    }),
    { requests: 0, errors: 0, wrong: 0, lost: 0 },
  );
  const networkFailed = network.filter((f) => !f.ok).length;
  const peaka = fileCounts("faults-peaka");
  const kv = fileCounts("faults-kv");
  const redirect = fileCounts("open-redirect");
  const oversized = fileCounts("oversized");
  const properties = fileCounts("properties");
  const propertyFailures = byFile.get("properties")?.failed ?? 0;
  const passed = vitestExit === 0 && loadExit === 0 && report.success;
  const attacks = attackRows(report);
  const attackTotals = attacks.reduce(
    (t, a) => ({ tried: t.tried + a.counts.attacksTried, held: t.held + a.counts.attacksHeld }),
    { tried: 0, held: 0 },
  );
  const families = new Map<string, number>();
  for (const h of HOSTILE_RETURN_URLS) families.set(h.family, (families.get(h.family) ?? 0) + 1);

  const out: string[] = [];
  out.push(`# Hardening

What the worker was put through and what held: hostile return URLs at every
place one enters, generated input, oversized and malformed requests, an
attacker's attempts on the outcome of a flow, every way Peaka and KV can
fail, and sustained load on the built worker. This file
is written by \`npm run report:hardening\` from the counts the suite recorded
while it ran; do not edit it by hand.

Run of ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC, Node ${process.version}, ${cpus().length} CPU cores.
Result: **${passed ? "every check passed" : "FAILED, see the counts below"}** (${n(report.numPassedTests)} of ${n(report.numTotalTests)} hardening tests passed${load ? `; load test ${loadExit === 0 ? "passed" : "failed"}` : "; load test not run"}).

## Summary
`);
  out.push(
    table(
      ["Check", "Tried", "Failed to hold"],
      [
        ["Hostile return URLs (inputs tried / accepted)", redirect.inputsTried, redirect.inputsAccepted],
        ["Oversized and malformed requests (inputs tried / accepted)", oversized.inputsTried, oversized.inputsAccepted],
        [
          "Attacks on the outcome (variants tried / failed to hold)",
          attackTotals.tried,
          attackTotals.tried - attackTotals.held,
        ],
        ["Property-test runs (runs / failing properties)", properties.propertyRuns, propertyFailures],
        ["Peaka faults (injected / undefined outcomes)", peaka.faultsInjected, peaka.undefinedOutcomes],
        ["KV faults (injected / undefined outcomes)", kv.faultsInjected, kv.undefinedOutcomes],
        ["Network faults against workerd (injected / undefined outcomes)", network.length, networkFailed],
        ["Load requests (sent / errors)", loadTotals.requests, loadTotals.errors],
        ["Load redirects (checked / wrong)", loadTotals.requests, loadTotals.wrong],
        ["Load KV records (checked / lost or misattributed)", loadTotals.requests, loadTotals.lost],
        ["Log lines (checked / secrets found)", total.logLinesChecked, total.secretsFound],
      ],
    ),
  );

  out.push(`
## Hostile input

The open-redirect corpus (\`test/fixtures/hostile-return-urls.ts\`) holds
${HOSTILE_RETURN_URLS.length} return URLs, each refused by the rules (https only, exact origin from
RETURN_ORIGINS, host written as served: no percent-escape, Unicode or numeric
spelling and no default port; no userinfo, no backslash, no control,
whitespace or non-ASCII character, at most 2048 characters):
`);
  out.push(
    table(
      ["Family", "Inputs"],
      [...families].map(([family, count]) => [family, count]),
    ),
  );
  out.push(`
Each is tried wherever a return URL enters: written through the server API
or a signed start link (refused before Peaka is called or KV written), and
stored in a record by an older configuration, then re-checked right before
the redirect that would use it. "Accepted" means any redirect other than the
partner's ERROR_URL. Each entry point is tried under the exact RETURN_ORIGINS
of the test configuration and again under
\`${WILDCARD_ORIGINS.join(",")}\`, where the ${HOSTILE_RETURN_URLS.length - HOSTILE_UNDER_WILDCARD.length} entries one
label under example.com are tenants the wildcard allows on purpose and the
other ${HOSTILE_UNDER_WILDCARD.length} must still be refused.
`);
  const redirectGroups = groups("open-redirect").filter(([, g]) => g.counts.inputsTried > 0);
  const wildcardSuffix = ` ${WILDCARD_LABEL}`;
  out.push(
    table(
      ["Entry point", "Exact list: tried", "Accepted", "Wildcard list: tried", "Accepted"],
      redirectGroups
        .filter(([name]) => !name.endsWith(wildcardSuffix))
        .map(([name, g]) => {
          const w = byGroup.get(`${name}${wildcardSuffix}`)?.counts;
          return [
            name === "open-redirect corpus" ? "the allow-list function itself" : name,
            g.counts.inputsTried,
            g.counts.inputsAccepted,
            w ? w.inputsTried : "not run",
            w ? w.inputsAccepted : "",
          ];
        }),
    ),
  );
  out.push(`
Oversized and malformed requests (URLs of 16,000 characters up to 1 MiB,
form_post bodies at and over 16 KiB, streamed bodies without a length,
1,000 parameters, invalid percent-escapes and UTF-8) must each end on their
one defined answer: 414, 413, 415 or 400 with the error page, or for the
relay a 307 with the query unchanged (the relay never decodes what it
forwards, so 1,000 distinct parameters or a bad escape within the limits are
relayed as they came). "Accepted" counts a 5xx or an input over a limit that
was served.
`);
  out.push(
    table(
      ["Route", "Inputs tried", "Accepted"],
      tests("oversized").map((t) => [
        t.name.replace(/^.* › /, "").replace(/:.*$/, ""),
        t.counts.inputsTried,
        t.counts.inputsAccepted,
      ]),
    ),
  );
  out.push(`
### Properties (fast-check)
`);
  out.push(
    table(
      ["Property", "Runs", "Holds"],
      tests("properties").map((t) => [
        t.name.replace(/^property: /, ""),
        t.counts.propertyRuns,
        t.passed ? "yes" : "**no**",
      ]),
    ),
  );

  out.push(`
## Attacks on the outcome

What an attacker tried against older versions, to obtain or fake the
outcome of someone else's flow (\`test/hardening/attacks.test.ts\`), tried
again against the worker in the Workers pool with BROWSER_BINDING=required
and RESULT_SIGNING_KEY set; Peaka is a fake that records every call. Each
row runs in many variants; a variant holds when it was refused or answered
harmlessly, as the last column says, and no secret (codes, states, binding
cookies, startUrl tokens, the API key, ADMIN_TOKEN, LINK_SIGNING_KEY,
RESULT_SIGNING_KEY, client secrets) appeared in any log line or in what the
attacker got back. A variant that does not hold fails the suite.
`);
  out.push(
    attacks.length === 0
      ? "_The attack suite did not run._"
      : table(
          ["Attack", "Tried", "Held (refused or harmless)", "How it is stopped"],
          attacks.map((a) => [
            `${a.row.row}. ${a.row.attack}`,
            a.counts.attacksTried,
            a.passed && a.counts.attacksHeld === a.counts.attacksTried
              ? a.counts.attacksHeld
              : `**${n(a.counts.attacksHeld)}**`,
            a.row.stoppedBy,
          ]),
          new Set([3]),
        ),
  );
  out.push(`
The binding decides who may finish a flow, not what its outcome was. In
relay mode the completion's \`status\` comes from the URL the bound browser
presents, so that browser (the user who started the flow) can write its own
\`status=success\` and receive a \`result\` that verifies, with
\`via: "redirect"\`. (A flow started under CALLBACK_MODE=exchange ends only
at its callback, where the worker hears the outcome from Peaka's API; a
completion for one answers 404 unknown_connection in any browser.) A partner
that must know the connection really works should treat
\`via: "redirect"\` as the user's word and confirm with Peaka.`);

  out.push(`
## Faults

Peaka: every call the worker makes (the oauth2 exchange, connection creation
from a start link and from the server API) met a timeout, a connection
reset, statuses 302, 401, 403, 404, 409, 429, 500, 502 and 503, HTML error
pages, truncated JSON, JSON of the wrong shape, an unsafe connection id and
an oversized answer. KV: every read, write and delete the worker performs was
made to reject, and a stored record was corrupted. A defined outcome is: the
user back at the stored return URL with \`status=fail\` and the \`error\` code
when the connection is known (or at their destination when only bookkeeping
failed), else the error page (or ERROR_URL, or JSON for API clients) with the
request id and the connection id when known; a request log line naming the
failure code, the error class and Peaka's status; no stack trace; no secret.
`);
  out.push(
    table(
      ["Where", "Faults injected", "Undefined outcomes"],
      [
        ...groups("faults-peaka").map(([name, g]) => [
          name.replace(/^Peaka faults: /, "Peaka, "),
          g.counts.faultsInjected,
          g.counts.undefinedOutcomes,
        ]),
        ...groups("faults-kv").map(([name, g]) => [name, g.counts.faultsInjected, g.counts.undefinedOutcomes]),
        ...network.map((f) => [`workerd + real socket: ${f.name}`, 1, f.ok ? 0 : 1]),
      ],
    ),
  );

  out.push(`
## Load

The worker built as it deploys (\`wrangler deploy --dry-run\`), run in
workerd directly on loopback (no wrangler, no dev proxy), its KV binding
served by an in-memory KV service in the same workerd process, Peaka by the
Node stand-in on loopback, which redeems each exchange's code at a real OAuth
server (oidc-provider) on loopback, driven by autocannon. Every response is
checked against its own request: the relay's Location must be Peaka's callback
plus the request's raw query byte for byte; each completion and exchange must
land on its own connection's return URL; afterwards the KV operation counts
must show each answered record deleted (or its outcome stored) and every other
record still present, and each answered exchange one redeemed code.
`);
  out.push(
    table(
      [
        "Scenario",
        "Requests",
        "Seconds",
        "Req/s",
        "p50 ms",
        "p99 ms",
        "Errors",
        "Wrong status",
        "Wrong redirects",
        "Records lost",
      ],
      scenarios.map((s) => [
        s.name,
        s.requests,
        s.seconds.toFixed(1),
        Math.round(s.rps),
        s.p50Ms.toFixed(2),
        s.p99Ms.toFixed(2),
        s.errors,
        s.wrongStatus,
        s.wrongRedirects,
        s.recordsLost,
      ]),
    ),
  );
  if (load) {
    const limits = Object.entries(load.limits)
      .map(([name, l]) => `${name} ${n(l.amount)} requests / ${l.maxSeconds} s / ${l.connections} connections`)
      .join("; ");
    out.push(`
Load run of ${load.generatedAt.slice(0, 16).replace("T", " ")} UTC, ${load.totalSeconds.toFixed(0)} s in all (build, seeding and runs).
Bounds per scenario: ${limits}. Throughput is that of one machine
(${cpus().length} cores) running the load generator, the stand-in, the OAuth server and workerd together; it is a
floor, not a capacity figure (see docs/benchmarks.md for those).
`);
  }

  out.push(`
## Secrets

Every hardening test that handles an authorization code, a state, a token, a
client secret or an API key captures the console and searches every line (and
the pages, JSON answers, non-relay Location headers and KV values it
produced) for each of them.
`);
  out.push(
    table(
      ["Test file", "Log lines checked", "Secrets found"],
      [...byFile].map(([name, f]) => [name, f.counts.logLinesChecked, f.counts.secretsFound]),
    ),
  );

  out.push(`
## Reproduce

\`\`\`sh
npm run report:hardening          # everything below, then rewrites this file
npx vitest run test/hardening     # the suite alone (Workers pool, about a minute)
npm run test:load                 # the load test alone (under a minute)
\`\`\`
`);
  return `${out.join("\n")}`;
}

function main(): void {
  mkdirSync(OUT_DIR, { recursive: true });
  const reuse = process.argv.includes("--reuse-load") && existsSync(LOAD_JSON);
  // Never report a previous run's numbers as this run's.
  rmSync(VITEST_JSON, { force: true });
  if (!reuse) rmSync(LOAD_JSON, { force: true });
  const vitestExit = run("npx", [
    "vitest",
    "run",
    "test/hardening",
    "--reporter=default",
    "--reporter=json",
    `--outputFile.json=${VITEST_JSON}`,
  ]);
  const loadExit = reuse ? 0 : run("npm", ["run", "test:load"]);
  if (!existsSync(VITEST_JSON)) throw new Error("the hardening suite wrote no JSON report");
  const report = JSON.parse(readFileSync(VITEST_JSON, "utf8")) as VitestReport;
  const load = existsSync(LOAD_JSON) ? (JSON.parse(readFileSync(LOAD_JSON, "utf8")) as LoadReport) : undefined;
  writeFileSync(DOC, render(report, load, vitestExit, loadExit));
  console.log(`report: wrote ${relative(ROOT, DOC)}`);
  process.exitCode = vitestExit === 0 && loadExit === 0 ? 0 : 1;
}

main();
