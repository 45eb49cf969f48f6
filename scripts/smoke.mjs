// `npm run smoke -- https://connect.example.com`: checks a deployed worker
// from outside, without a Peaka account, an OAuth app or any secret:
//
//   healthz        GET /healthz answers 200 JSON with ok: true (when degraded,
//                  each problem is printed by variable name and rule)
//   headers        the security headers and X-Request-Id on /healthz, on a
//                  404 and on the callback's answer
//   not found      an unknown path answers 404
//   callback       GET CALLBACK_PATH?code=smoke&state=smoke…: with
//                  BROWSER_BINDING=off in relay mode, a 307 to the zone's Peaka
//                  callback carrying the query byte for byte (the redirect is
//                  not followed); with BROWSER_BINDING=required (the default)
//                  or in exchange mode, 403 browser_mismatch: the binding is on
//                  and nothing was relayed or sent to Peaka
//   complete HEAD  HEAD COMPLETE_PATH answers 405
//
// Exits 0 when every check passes, 1 naming each failed one, 2 on a usage
// error. Plain Node (20+), no dependencies; it prints no header or body
// beyond the fields it checks.
import { randomUUID } from "node:crypto";
import { parseArgs } from "node:util";

const USAGE = `usage: npm run smoke -- <base-url> [options]

  <base-url>                the deployment's origin, e.g. https://connect.example.com
  --callback-path PATH      CALLBACK_PATH (default /oauth2/mycallback)
  --complete-path PATH      COMPLETE_PATH (default /oauth2/complete)
  --peaka-callback URL      the Peaka callback the relay must redirect to (default: any
                            absolute URL on another origin)
  --timeout-ms N            per request (default 10000)
`;

// Not a real code or state: the relay's redirect is never followed, and in
// exchange mode the request stops at the browser binding before Peaka.
// `%2f` and `+` would change if the query were decoded and re-encoded.
const SMOKE_QUERY = "code=smoke&state=smoke&smoke=a%2fb+c~";

function fail(message) {
  process.stderr.write(`smoke: ${message}\n\n${USAGE}`);
  process.exit(2);
}

function options() {
  let parsed;
  try {
    parsed = parseArgs({
      allowPositionals: true,
      options: {
        "callback-path": { type: "string", default: "/oauth2/mycallback" },
        "complete-path": { type: "string", default: "/oauth2/complete" },
        "peaka-callback": { type: "string" },
        "timeout-ms": { type: "string", default: "10000" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (error) {
    fail(error instanceof Error ? error.message : String(error));
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(USAGE);
    process.exit(0);
  }
  if (positionals.length !== 1) fail("give exactly one base URL");
  let base;
  try {
    base = new URL(positionals[0]);
  } catch {
    fail(`not a URL: ${positionals[0]}`);
  }
  if (base.protocol !== "https:" && base.protocol !== "http:") fail("the base URL must be http(s)");
  if (base.pathname !== "/" || base.search || base.hash || base.username || base.password) {
    fail("the base URL is an origin only (no path, query, fragment or userinfo)");
  }
  for (const name of ["callback-path", "complete-path"]) {
    if (!/^\/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*$/.test(values[name])) fail(`--${name} must be a path starting with /`);
  }
  const timeoutMs = Number(values["timeout-ms"]);
  if (!Number.isInteger(timeoutMs) || timeoutMs < 100) fail("--timeout-ms must be an integer of at least 100");
  let peakaCallback;
  if (values["peaka-callback"] !== undefined) {
    try {
      peakaCallback = new URL(values["peaka-callback"]).href;
    } catch {
      fail("--peaka-callback must be an absolute URL");
    }
  }
  return {
    origin: base.origin,
    https: base.protocol === "https:",
    callbackPath: values["callback-path"],
    completePath: values["complete-path"],
    peakaCallback,
    timeoutMs,
  };
}

/** One request, never following a redirect. */
async function request(opts, method, path, accept = "application/json") {
  const url = `${opts.origin}${path}`;
  try {
    const response = await fetch(url, {
      method,
      redirect: "manual",
      headers: { Accept: accept, "User-Agent": "peaka-connect-edge-smoke" },
      signal: AbortSignal.timeout(opts.timeoutMs),
    });
    const text = method === "HEAD" ? "" : await response.text();
    let json;
    if ((response.headers.get("content-type") ?? "").includes("application/json")) {
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
    }
    return { response, json };
  } catch (error) {
    const cause = error instanceof Error && error.cause instanceof Error ? error.cause : undefined;
    const reason =
      error instanceof Error && error.name === "TimeoutError" ? `no answer within ${opts.timeoutMs} ms` : "";
    throw new Error(
      `${method} ${path}: ${reason || cause?.message || (error instanceof Error ? error.message : error)}`,
    );
  }
}

/** What is wrong with the headers every response must carry; empty when nothing is. */
function headerProblems(opts, response) {
  const h = response.headers;
  const problems = [];
  if (!/(^|,)\s*no-store\s*(,|$)/i.test(h.get("cache-control") ?? "")) problems.push("Cache-Control is not no-store");
  if ((h.get("referrer-policy") ?? "").toLowerCase() !== "no-referrer")
    problems.push("Referrer-Policy is not no-referrer");
  if ((h.get("x-content-type-options") ?? "").toLowerCase() !== "nosniff") {
    problems.push("X-Content-Type-Options is not nosniff");
  }
  if (opts.https && !/max-age=[1-9]/i.test(h.get("strict-transport-security") ?? "")) {
    problems.push("Strict-Transport-Security is missing");
  }
  if (!h.get("x-request-id")) problems.push("X-Request-Id is missing");
  return problems;
}

/** The request id, so a failed check can be found in the worker's logs. */
const idOf = (response) => {
  const id = response.headers.get("x-request-id");
  return id ? ` (requestId ${id})` : "";
};

/** The table's rows, in this order. */
const ORDER = [
  "healthz",
  "healthz headers",
  "not found",
  "404 headers",
  "callback",
  "callback headers",
  "complete HEAD",
];

const errorOf = (answer) => (typeof answer.json?.error === "string" ? answer.json.error : undefined);

async function main() {
  const opts = options();
  const results = [];
  const record = (check, status, detail = "") => results.push({ check, status, detail });
  const attempt = async (check, run) => {
    try {
      await run();
    } catch (error) {
      record(check, "FAIL", error instanceof Error ? error.message : String(error));
    }
  };

  // 1. /healthz: the deployment's own view of its configuration.
  let health;
  await attempt("healthz", async () => {
    const answer = await request(opts, "GET", "/healthz");
    const { response, json } = answer;
    const problems = headerProblems(opts, response);
    record("healthz headers", problems.length ? "FAIL" : "ok", problems.join("; "));
    if (response.status !== 200 || json === undefined) {
      const code = errorOf(answer);
      const message = typeof json?.message === "string" ? `: ${json.message}` : "";
      record("healthz", "FAIL", `${response.status}${code ? ` ${code}` : ""}${message}${idOf(response)}`);
      return;
    }
    health = json;
    const summary = `${json.status ?? "?"}, version ${json.version}, mode ${json.mode}, zone ${json.defaultZone}, browserBinding ${json.browserBinding}`;
    if (json.ok === true) {
      record("healthz", "ok", summary);
      return;
    }
    const listed = Array.isArray(json.problems)
      ? json.problems.map((p) => `${p.zone ? `[${p.zone}] ` : ""}${p.variable} ${p.reason}`)
      : ["(no problems listed)"];
    record("healthz", "FAIL", `${summary}; ${listed.join("; ")}`);
  });

  // 2. A path the worker does not serve.
  await attempt("not found", async () => {
    const answer = await request(opts, "GET", `/__smoke/not-found-${randomUUID()}`);
    const { response } = answer;
    const problems = headerProblems(opts, response);
    record("404 headers", problems.length ? "FAIL" : "ok", problems.join("; "));
    const code = errorOf(answer);
    if (response.status === 404 && (code === undefined || code === "not_found")) record("not found", "ok", "404");
    else record("not found", "FAIL", `expected 404 not_found, got ${response.status} ${code ?? ""}${idOf(response)}`);
  });

  // 3. The OAuth callback, with a made-up code that goes nowhere.
  await attempt("callback", async () => {
    const mode = health?.mode;
    const binding = health?.browserBinding;
    if (mode !== "relay" && mode !== "exchange") {
      record("callback", "FAIL", "not checked: /healthz did not give the callback mode");
      return;
    }
    if (mode === "exchange" && binding !== "required") {
      // Without the binding the exchange would post the made-up code to Peaka.
      record("callback", "skip", "exchange mode with BROWSER_BINDING=off: the callback would call Peaka");
      return;
    }
    const path = `${opts.callbackPath}?${SMOKE_QUERY}`;
    const answer = await request(opts, "GET", path);
    const { response } = answer;
    const problems = headerProblems(opts, response);
    record("callback headers", problems.length ? "FAIL" : "ok", problems.join("; "));
    const location = response.headers.get("location");
    if (mode === "relay" && binding === "off") {
      if (response.status !== 307 || location === null) {
        record(
          "callback",
          "FAIL",
          `relay: expected 307, got ${response.status} ${errorOf(answer) ?? ""}${idOf(response)}`,
        );
        return;
      }
      const at = location.indexOf("?");
      const target = at < 0 ? location : location.slice(0, at);
      const query = at < 0 ? "" : location.slice(at + 1);
      let origin;
      try {
        origin = new URL(target).origin;
      } catch {
        origin = undefined;
      }
      const wrong = [];
      if (query !== SMOKE_QUERY) wrong.push("the query was not passed on byte for byte");
      if (origin === undefined) wrong.push("Location is not an absolute URL");
      else if (origin === opts.origin) wrong.push("Location points back at this worker");
      if (opts.peakaCallback !== undefined && target !== opts.peakaCallback) {
        wrong.push(`Location is not --peaka-callback (got ${target})`);
      }
      record("callback", wrong.length ? "FAIL" : "ok", wrong.length ? wrong.join("; ") : `relay: 307 to ${target}`);
      return;
    }
    // BROWSER_BINDING=required (relay or exchange): no session, no cookie.
    const code = errorOf(answer);
    if (response.status === 403 && code === "browser_mismatch" && location === null) {
      record("callback", "ok", `${mode}: 403 browser_mismatch (binding on, nothing relayed)`);
    } else {
      const got = `${response.status} ${code ?? ""}${location === null ? "" : " with a Location"}`;
      record("callback", "FAIL", `${mode}: expected 403 browser_mismatch, got ${got}${idOf(response)}`);
    }
  });

  // 4. The completion path takes GET only.
  await attempt("complete HEAD", async () => {
    const { response } = await request(opts, "HEAD", opts.completePath);
    if (response.status === 405) record("complete HEAD", "ok", `405, Allow: ${response.headers.get("allow") ?? "-"}`);
    else record("complete HEAD", "FAIL", `expected 405, got ${response.status}${idOf(response)}`);
  });

  results.sort((a, b) => ORDER.indexOf(a.check) - ORDER.indexOf(b.check));
  const width = Math.max(...results.map((r) => r.check.length));
  console.log(`smoke: ${opts.origin}`);
  for (const { check, status, detail } of results) {
    console.log(`  ${check.padEnd(width)}  ${status.padEnd(4)}  ${detail}`.trimEnd());
  }
  const failed = results.filter((r) => r.status === "FAIL").map((r) => r.check);
  if (failed.length === 0) {
    console.log("smoke: passed");
  } else {
    console.log(`smoke: FAILED: ${failed.join(", ")}`);
    process.exitCode = 1;
  }
}

await main();
