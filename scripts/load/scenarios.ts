import { createHash, randomBytes } from "node:crypto";
import { kvOverHttp } from "../../bench/lib/kv-adapters";
import type { RunningWorker } from "../../bench/lib/workerd";
import { Store } from "../../src/storage/store";
import type { StandinContext } from "../../standin/peaka.mjs";
import type { PlatformClient, startProvider } from "../../standin/provider.mjs";
import { type DriveResult, drive, type Verdict } from "./drive";

/** What one scenario measured, as docs/hardening.md reports it. */
export interface ScenarioResult {
  name: string;
  requests: number;
  errors: number;
  wrongStatus: number;
  wrongRedirects: number;
  /** Records that vanished without their completion, or completions whose bookkeeping is missing. */
  recordsLost: number;
  seconds: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
}

export const PEAKA_CALLBACK = "https://peaka.studio/oauth2/callback";

/**
 * One browser for the bound scenarios (BROWSER_BINDING=required): every
 * seeded record carries the SHA-256 of its binding token, and every request
 * sends the cookie, as the browser that opened the startUrl would.
 */
const BINDING_TOKEN = randomBytes(32).toString("base64url");
const BINDING_HASH = createHash("sha256").update(BINDING_TOKEN).digest("hex");
export const BOUND_BROWSER = {
  hash: BINDING_HASH,
  headers: { cookie: `__Host-pce-${BINDING_HASH.slice(0, 16)}=${BINDING_TOKEN}` },
};
export const RETURN_ORIGIN = "https://app.example.com";

export interface Limits {
  readonly amount: number;
  readonly maxSeconds: number;
  readonly connections: number;
}

function summary(name: string, run: DriveResult, recordsLost: number): ScenarioResult {
  const { requests, errors, wrongStatus, wrongRedirects, seconds, rps, p50Ms, p99Ms } = run;
  return { name, requests, errors, wrongStatus, wrongRedirects, recordsLost, seconds, rps, p50Ms, p99Ms };
}

/** A value with the characters a re-encoding proxy would change: + / = and an encoded space. */
function awkward(bytes: number): string {
  return `${randomBytes(bytes).toString("base64")}%20x`;
}

/** Writes records with the worker's own Store over the KV protocol, `concurrency` at a time. */
async function seed(count: number, concurrency: number, write: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) await write(next++);
    }),
  );
}

function redirectVerdict(status: number, location: string | undefined, expected: string, want = 303): Verdict {
  if (status !== want) return "wrong_status";
  return location === expected ? "ok" : "wrong_redirect";
}

/** Relay: every request a different raw query; Location must be Peaka's callback + ? + that query, byte for byte. */
export async function relayScenario(worker: RunningWorker, limits: Limits): Promise<ScenarioResult> {
  let n = 0;
  const run = await drive<string>({
    url: worker.url,
    ...limits,
    next() {
      const query = `code=${awkward(24)}&state=${awkward(18)}&scope=a%20b+c&n=${n++}`;
      return { path: `/oauth2/mycallback?${query}`, expect: `${PEAKA_CALLBACK}?${query}` };
    },
    judge: (status, headers, expected) => redirectVerdict(status, headers.location, expected, 307),
  });
  return summary("relay (307 to Peaka's callback)", run, 0);
}

interface Completion {
  readonly id: string;
  readonly location: string;
}

/**
 * Completion: one connection record per request, each with its own return
 * URL; half the requests use Peaka's `?connectionId=X?status=Y` spelling.
 * Afterwards every answered record must be gone and every other one still there.
 */
export async function completionScenario(worker: RunningWorker, limits: Limits): Promise<ScenarioResult> {
  const store = new Store(kvOverHttp(worker), 3600);
  const total = limits.amount + limits.connections;
  const plan: Completion[] = [];
  await seed(total, 32, async (i) => {
    const id = `load_${i}_${randomBytes(6).toString("hex")}`;
    const returnUrl = `${RETURN_ORIGIN}/return/${i}?tab=t${i}`;
    await store.putConnection(id, {
      returnUrl,
      zone: "us",
      mode: "relay",
      createdAt: Date.now(),
      browser: BOUND_BROWSER.hash,
    });
    const status = i % 2 === 0 ? "success" : "fail";
    const outcome = status === "success" ? "status=success" : "status=fail&error=connection_failed";
    plan[i] = { id, location: `${returnUrl}&connectionId=${id}&${outcome}` };
  });
  await worker.kvReset();
  let n = 0;
  const run = await drive<Completion>({
    url: worker.url,
    headers: BOUND_BROWSER.headers,
    ...limits,
    next() {
      const i = n++;
      const item = plan[i] as Completion;
      const query = i % 2 === 0 ? `connectionId=${item.id}&status=success` : `connectionId=${item.id}?status=fail`;
      return { path: `/oauth2/complete?${query}`, expect: item };
    },
    judge: (status, headers, expected) => redirectVerdict(status, headers.location, expected.location),
  });
  await settle();
  const stats = await worker.kvStats();
  const answered = run.answered.length;
  // Each answered completion deletes its record; the rest must all still be there.
  const recordsLost = Math.abs(stats.delete - answered) + Math.abs(stats.keys - (total - answered));
  return summary("completion (303 to each record's own return URL)", run, recordsLost);
}

interface Exchange {
  readonly code: string;
  readonly state: string;
  readonly location: string;
}

type Platform = Awaited<ReturnType<typeof startProvider>>;

const LOAD_REDIRECT_URI = "https://connect.example.com/oauth2/mycallback";

/** The OAuth app whose codes the exchange scenario redeems; the worker never sees its redirect URI. */
export const LOAD_APP: PlatformClient = {
  clientId: "load-app",
  clientSecret: `load-secret-${crypto.randomUUID()}`,
  name: "Load test app",
  redirectUris: [LOAD_REDIRECT_URI],
  responseMode: "query",
  tokenAuth: "client_secret_basic",
};

/**
 * Exchange: one connection per request, known to the Peaka stand-in and to
 * KV (the state record with that connection's return URL), and one code per
 * request from the platform's real OAuth server, which the stand-in redeems
 * at its token endpoint with the app's client secret (bound to the client,
 * once). The codes are minted directly rather than through a consent screen
 * each: the browser half is what the end-to-end tests cover.
 */
export async function exchangeScenario(
  worker: RunningWorker,
  peaka: StandinContext,
  platform: Platform,
  limits: Limits,
): Promise<ScenarioResult> {
  const store = new Store(kvOverHttp(worker), 3600);
  const total = limits.amount + limits.connections;
  const redirectUri = LOAD_REDIRECT_URI;
  const plan: Exchange[] = [];
  await seed(total, 32, async (i) => {
    const connection = peaka.state.addConnection({
      name: `load ${i}`,
      type: "google_analytics",
      clientId: LOAD_APP.clientId,
      clientSecret: LOAD_APP.clientSecret,
      tokenAuth: LOAD_APP.tokenAuth,
      redirectUri,
    });
    const state = peaka.state.newState(connection.id);
    connection.state = state;
    const code = await platform.mintCode({ clientId: LOAD_APP.clientId, redirectUri });
    const returnUrl = `${RETURN_ORIGIN}/return/${i}?tab=t${i}`;
    await store.putState(state, { connectionId: connection.id, returnUrl, zone: "us", browser: BOUND_BROWSER.hash });
    plan[i] = { code, state, location: `${returnUrl}&connectionId=${connection.id}&status=success` };
  });
  await worker.kvReset();
  const codesBefore = platform.codesIssued(LOAD_APP.clientId);
  let n = 0;
  const run = await drive<Exchange>({
    url: worker.url,
    headers: BOUND_BROWSER.headers,
    ...limits,
    next() {
      const item = plan[n++] as Exchange;
      const query = new URLSearchParams({ code: item.code, state: item.state, iss: platform.issuer });
      return { path: `/oauth2/mycallback?${query}`, expect: item };
    },
    judge: (status, headers, expected) => redirectVerdict(status, headers.location, expected.location),
  });
  await settle();
  const stats = await worker.kvStats();
  const answered = run.answered.length;
  const connected = [...peaka.state.connections.values()].filter((c) => c.status === "connected").length;
  // Each answered exchange connects once (its code redeemed at the token
  // endpoint) and stores one outcome for replays. Requests still in flight
  // when the time bound stops the run may have done both without an answer,
  // so the counts must lie between the answered and the sent requests.
  const outside = (count: number) => Math.max(0, answered - count) + Math.max(0, count - n);
  const recordsLost = outside(connected) + outside(stats.put) + (platform.codesIssued(LOAD_APP.clientId) - codesBefore);
  return summary("exchange (Peaka stand-in + oidc-provider token endpoint, 303 to each return URL)", run, recordsLost);
}

/** Background KV writes run after each response (waitUntil): give the last ones time to land. */
function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 500));
}
