import { env } from "cloudflare:test";
import { HttpResponse, http } from "msw";
import { describe, it } from "vitest";
import { type ResultClaims, ResultVerificationError, signResult, verifyResult } from "../../src/security/result.js";
import { Store } from "../../src/storage/store";
import { HOSTILE_RETURN_URLS } from "../fixtures/hostile-return-urls";
import { ADMIN_TOKEN, apiInit, consentUrl, LINK_KEY, link, RETURN_URL } from "../fixtures/start";
import { countingLimiter } from "../helpers/limiter";
import { API_KEY, PROJECT_ID, peaka, US_API } from "../helpers/peaka";
import { API_CLIENT, BROWSER, type Overrides } from "../helpers/worker";
import { attackFor, type Findings } from "./support/attack";
import type { AttackRow } from "./support/counts";
import { secret } from "./support/secrets";
import { type Send, workerWith, wrapKv } from "./support/worker";

/**
 * The attacker's table: what an attacker tried against the outcome of a
 * flow (the redirect back to the partner, and the signed `result` on it)
 * before the browser binding, PUBLIC_ORIGINS, signed results, HEAD-safe
 * routes and the error_description filter, each tried again here against the
 * worker in the Workers pool, in as many variants as make sense. Every
 * variant must hold (refused, or answered harmlessly) with no secret in any
 * log line; docs/hardening.md reports the counts per row.
 *
 * Flows run with BROWSER_BINDING=required (the default; the test baseline
 * turns it off) and RESULT_SIGNING_KEY set. Peaka is a fake behind MSW that
 * records every call: it creates connections whose consent URL carries a
 * fresh `state`, and confirms an exchange for a `state` it issued. A browser
 * is a cookie jar; "another browser" is one without the flow's cookie.
 */

const HOST = "https://connect.example.com";
const APP = "https://app.example.com";
const CALLBACK = `${HOST}/oauth2/mycallback`;
const PEAKA_CALLBACK = "https://peaka.studio/oauth2/callback";
const ERROR_URL = `${APP}/oauth-error`;
const DEFAULT_RETURN_URL = `${APP}/connected`;
const RESULT_KEY = "rsk_attack-suite-result-signing-key-8c2f61e0b7";
const CLIENT = { clientId: "client-attack-123", clientSecret: "cs_attack-client-secret-4e9a0d" };
/** Secrets every variant searches the logs and outputs for, besides its own. */
const RUN_SECRETS = [API_KEY, ADMIN_TOKEN, LINK_KEY, RESULT_KEY, CLIENT.clientSecret];
const store = new Store(env.CONNECTIONS, 3600);

const ROWS = {
  completionElsewhere: {
    row: 1,
    attack:
      "The attacker's own completion URL opened in a second browser (no cookie, another flow's cookie, a made-up, foreign or empty value under the flow's cookie name; both query spellings; with and without ERROR_URL)",
    stoppedBy:
      "The completion requires the cookie whose hash the connection record holds before anything is spent: 403 browser_mismatch (or ERROR_URL with that code and no `result`). The record stays: the bound browser still completes afterwards.",
  },
  handMadeCompletion: {
    row: 2,
    attack:
      "A hand-made `/oauth2/complete?connectionId=<id>&status=success` (or `fail`) for a flow started but never called back, from the attacker's browser, from no browser at all, with a forged cookie; relay, signed link and exchange flows",
    stoppedBy:
      "A bound record: 403 browser_mismatch before the redirect; an exchange-mode record (which only the callback ends) 404 unknown_connection, in any browser. A startUrl nobody opened has no connection record yet: 404 unknown_connection, or the DEFAULT_RETURN_URL fallback. No redirect the attacker obtained carries a `result`; the real flow in the bound browser gets one that verifies for its own outcome.",
  },
  inventedId: {
    row: 3,
    attack:
      "An invented (or already spent) connection id at the completion with DEFAULT_RETURN_URL set: random ids of every allowed shape, `status=success` and `fail`, with and without a cookie, relay and exchange",
    stoppedBy:
      "The fallback is not a flow the worker can vouch for: the redirect to DEFAULT_RETURN_URL never carries `result`, so its `status` proves nothing to a partner that verifies.",
  },
  exchangeReplay: {
    row: 4,
    attack:
      "An exchange callback URL replayed from another client after the user's own (no cookie, another flow's cookie, made-up or foreign values under the flow's cookie name, the victim's code with the attacker's own state, dropped or added parameters; by query and form_post; after a success and after Peaka refused the code)",
    stoppedBy:
      "The outcome stored under the code names the browser it went to: 403 browser_mismatch, no second call to Peaka; the original browser gets the first answer again.",
  },
  victimConsents: {
    row: 5,
    attack:
      "A victim consenting on the attacker's start link or consent URL: the attacker opens the startUrl or signed link first (binding their own browser), the victim's browser (no cookie, or cookies of its own flows) arrives at the relay or exchange callback with its code, by query or form_post, or denies; with and without ERROR_URL",
    stoppedBy:
      "The state record names the attacker's browser: the victim's is refused with 403 browser_mismatch (or ERROR_URL) before the code leaves the worker: no 307 to Peaka in relay mode, no call to Peaka in exchange mode, no outcome stored.",
  },
  forgedHost: {
    row: 6,
    attack:
      "A forged host: unlisted hosts (other domain, upper case, trailing dot, other port or scheme, look-alike, X-Forwarded-Host naming the listed host) on the server API (POST, PUT), signed links and startUrls; forged Host, X-Forwarded-Host/-Proto, Forwarded and X-Original-Host headers on each listed origin",
    stoppedBy:
      "Every URL the worker builds comes from the PUBLIC_ORIGINS entry the request's URL matches: an unlisted host gets 421 misdirected_request before Peaka is called or KV written (a startUrl stays unspent); headers never count, so on a listed host the callbacks Peaka receives and the startUrl are on that host.",
  },
  head: {
    row: 7,
    attack:
      "HEAD (a link preview, a prefetcher, a monitor) on the completion, on `/oauth2/begin`, on a signed start link and on the exchange callback, with and without the flow's cookie",
    stoppedBy:
      "405 with Allow before anything is read, spent or sent: the record, the startUrl, the link and the code each still work afterwards in the bound browser, once.",
  },
  junkCallbacks: {
    row: 8,
    attack:
      "Junk callbacks with random code and state and no cookie: 200 on the exchange (query and form_post), 200 on the relay, and 200 from one client IP under CALLBACK_RATE_LIMITER (limit 50 here)",
    stoppedBy:
      "No state record names the sender's browser: 403 browser_mismatch before Peaka is called (zero calls) or anything is written to KV; past the client's limit, 429 before any KV read.",
  },
  errorDescription: {
    row: 9,
    attack:
      "A provider denial whose `error_description` (or `error`) carries markup, quotes, ampersands, backslashes, control or non-ASCII characters, header injections or more than 256 characters, by query and form_post; and with ERROR_URL when no flow is known",
    stoppedBy:
      "Only 1-256 printable ASCII characters without < > \" ' & and backslash are passed on; anything else is dropped, and an `error` that is not a short token becomes `provider_error`. Harmless descriptions still arrive unchanged.",
  },
  returnUrlAuthority: {
    row: 10,
    attack:
      "A return URL spelling an allowed host another way at the server API (POST and PUT): percent-encoded ASCII or non-ASCII (`app.example.%EF%BD%83om`), Unicode, numeric, default or odd ports, trailing dot, userinfo",
    stoppedBy:
      "The written authority must be the host as served and its origin listed: 400 return_url_not_allowed on `returnUrl`, before Peaka is called or KV written.",
  },
  badConfigUrl: {
    row: 11,
    attack:
      "A bad ERROR_URL or DEFAULT_RETURN_URL: `https:evil.com` and other scheme-relative spellings, unlisted origins, other schemes, userinfo, encoded or Unicode hosts, default port, whitespace, relative URLs",
    stoppedBy:
      "The same return-URL checker at config load: every request answers 500 config_invalid naming the variable, never redirects to the value, and never echoes it in the answer or the log.",
  },
  resultTokens: {
    row: 12,
    attack:
      "Forged `result` tokens: payload or signature tampered (every signature character), expired, not yet valid, wrong audience or issuer, `alg: none` and other algorithms (HS384, HS512 signed with the key, RS256), another key, odd headers, malformed",
    stoppedBy:
      "verifyResult fixes HS256, checks the HMAC in constant time over the canonical signature, then the claims: each refused with its code (algorithm, signature, malformed, expired, not_yet_valid, audience, issuer, claims).",
  },
} as const satisfies Record<string, AttackRow>;

// ---------------------------------------------------------------------------
// The world: configurations, a fake Peaka, browsers.

/** Never the answer: the rate limits of the start routes are not what is tried here. */
const unlimited = () => countingLimiter(Number.MAX_SAFE_INTEGER);

function config(extra: Overrides = {}): Overrides {
  return {
    BROWSER_BINDING: "required",
    ADMIN_TOKEN,
    LINK_SIGNING_KEY: LINK_KEY,
    RESULT_SIGNING_KEY: RESULT_KEY,
    API_RATE_LIMITER: unlimited(),
    START_RATE_LIMITER: unlimited(),
    ...extra,
  };
}

const EXCHANGE: Overrides = { CALLBACK_MODE: "exchange" };

interface PeakaCall {
  readonly url: string;
  readonly body: string;
  readonly authorization: string | null;
}

interface PeakaFlow {
  readonly id: string;
  readonly state: string;
}

interface FakePeaka {
  readonly creates: PeakaCall[];
  readonly exchanges: PeakaCall[];
  readonly flows: PeakaFlow[];
  /** Exchanges whose queryParameters carry this code. */
  exchangesOf(code: string): number;
}

/**
 * Peaka's partner API: creates connections (the consent URL carries a fresh
 * state, and the redirect URI the worker asked for) and confirms the
 * exchange of a code that comes with a state it issued; a code starting with
 * "refused-" it refuses.
 */
function fakePeaka(): FakePeaka {
  const creates: PeakaCall[] = [];
  const exchanges: PeakaCall[] = [];
  const flows: PeakaFlow[] = [];
  const record = async (request: { url: string; text(): Promise<string>; headers: Headers }, into: PeakaCall[]) => {
    const body = await request.text();
    into.push({ url: request.url, body, authorization: request.headers.get("authorization") });
    return body;
  };
  peaka.use(
    http.post(`${US_API}/connections/${PROJECT_ID}/oauth2`, async ({ request }) => {
      const body = await record(request, exchanges);
      const query = new URLSearchParams((JSON.parse(body) as { queryParameters: string }).queryParameters);
      const flow = flows.find((f) => f.state === query.get("state"));
      if (!flow || query.get("code")?.startsWith("refused-")) {
        return HttpResponse.json({ message: "invalid_grant" }, { status: 400 });
      }
      return HttpResponse.json({ id: flow.id, name: "A", type: "google_analytics" });
    }),
    http.post(`${US_API}/connections/${PROJECT_ID}`, async ({ request }) => {
      const body = JSON.parse(await record(request, creates)) as { credential?: { redirectUrl?: string } };
      const flow = { id: `conn_${crypto.randomUUID()}`, state: secret("state") };
      flows.push(flow);
      const url = consentUrl(flow.state, body.credential?.redirectUrl ?? PEAKA_CALLBACK);
      return HttpResponse.json({ id: flow.id, name: "A", type: "google_analytics", url });
    }),
  );
  return {
    creates,
    exchanges,
    flows,
    exchangesOf: (code) =>
      exchanges.filter((call) => {
        const { queryParameters } = JSON.parse(call.body) as { queryParameters: string };
        return new URLSearchParams(queryParameters).get("code") === code;
      }).length,
  };
}

/** A browser: keeps the cookies the worker sets and sends them back. */
class Browser {
  readonly jar = new Map<string, string>();

  cookieHeader(): string {
    return [...this.jar].map(([name, value]) => `${name}=${value}`).join("; ");
  }

  /** The binding tokens it holds: secrets. */
  tokens(): string[] {
    return [...this.jar.values()];
  }

  async request(send: Send, url: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (!headers.has("accept")) headers.set("accept", BROWSER.accept);
    if (this.jar.size > 0 && !headers.has("cookie")) headers.set("cookie", this.cookieHeader());
    const res = await send(url, { ...init, headers });
    for (const header of res.headers.getSetCookie()) {
      const pair = header.split(";")[0] ?? "";
      const eq = pair.indexOf("=");
      const [name, value] = [pair.slice(0, eq), pair.slice(eq + 1)];
      if (value === "") this.jar.delete(name);
      else this.jar.set(name, value);
    }
    return res;
  }

  get(send: Send, url: string, headers: Record<string, string> = {}): Promise<Response> {
    return this.request(send, url, { headers });
  }

  post(send: Send, url: string, form: string, headers: Record<string, string> = {}): Promise<Response> {
    return this.request(send, url, {
      method: "POST",
      headers: { ...headers, "content-type": "application/x-www-form-urlencoded" },
      body: form,
    });
  }
}

interface Answer {
  readonly status: number;
  readonly location: string | null;
  readonly allow: string | null;
  readonly body: string;
  readonly setCookies: string[];
}

async function read(res: Response): Promise<Answer> {
  return {
    status: res.status,
    location: res.headers.get("location"),
    allow: res.headers.get("allow"),
    body: await res.text(),
    setCookies: res.headers.getSetCookie(),
  };
}

/** Sends without a browser: no cookie, and whatever Accept the caller gives. */
async function bare(send: Send, url: string, headers: Record<string, string> = {}): Promise<Answer> {
  return read(await send(url, { headers }));
}

/** A flow bound to one browser. */
interface BoundFlow {
  readonly id: string;
  readonly state: string;
  /** Where the browser went after the start: the provider's consent screen. */
  readonly consent: string;
  readonly browser: Browser;
  /** The flow's cookie name in that browser. */
  readonly cookieName: string;
  /** The state, the startUrl's token and the browser's cookie values. */
  readonly secrets: string[];
}

type Mode = "relay" | "exchange";
type Via = "api" | "link";

/** The server API starts a flow: its id and startUrl, opened by nobody yet. */
async function apiStart(send: Send, mode: Mode, origin = HOST) {
  const res = await send(
    `${origin}/api/v1/connections`,
    apiInit("POST", {
      type: "google_analytics",
      name: "A",
      returnUrl: RETURN_URL,
      ...(mode === "exchange" ? { credential: CLIENT } : {}),
    }),
  );
  const text = await res.text();
  if (res.status !== 201) throw new Error(`setup: the API answered ${res.status} ${text.slice(0, 200)}`);
  const body = JSON.parse(text) as { connectionId: string; startUrl: string };
  return { id: body.connectionId, startUrl: body.startUrl, token: new URL(body.startUrl).searchParams.get("t") ?? "" };
}

/** A flow started through the API (or a signed link, relay only) and opened in `browser`, which it binds. */
async function boundFlow(
  send: Send,
  fake: FakePeaka,
  browser: Browser,
  mode: Mode,
  via: Via = "api",
): Promise<BoundFlow> {
  const before = new Set(browser.jar.keys());
  let id: string;
  let res: Response;
  const secrets: string[] = [];
  if (via === "api") {
    const started = await apiStart(send, mode);
    id = started.id;
    secrets.push(started.token);
    res = await browser.get(send, started.startUrl);
  } else {
    res = await browser.get(send, await link());
    id = fake.flows.at(-1)?.id ?? "";
  }
  const consent = res.headers.get("location") ?? "";
  if (res.status !== 303 || !consent.startsWith("https://accounts.google.com/")) {
    throw new Error(`setup: opening the ${via} start answered ${res.status} ${consent}`);
  }
  const state = new URL(consent).searchParams.get("state") ?? "";
  const cookieName = [...browser.jar.keys()].find((name) => !before.has(name));
  if (cookieName === undefined) throw new Error("setup: the start set no binding cookie");
  secrets.push(state, ...browser.tokens());
  return { id, state, consent, browser, cookieName, secrets };
}

const completion = (id: string, status = "success") => `${HOST}/oauth2/complete?connectionId=${id}&status=${status}`;
const callback = (params: Record<string, string>) => `${CALLBACK}?${new URLSearchParams(params)}`;
/** A value the worker could have issued as a binding token: 43 base64url characters. */
const madeUpToken = () => secret("tok").replaceAll("-", "").slice(0, 43).padEnd(43, "x");

// ---------------------------------------------------------------------------
// Checks. Each adds a problem to the variant instead of throwing, so a
// variant reports every way it got through.

/** A refusal: this status, no Location, no cookie set, the code named. */
function refused(f: Findings, a: Answer, status: number, code: string): void {
  if (a.status !== status)
    f.fail(`answered ${a.status}${a.location ? ` to ${a.location.slice(0, 160)}` : ""}, expected ${status} ${code}`);
  else if (a.location !== null) f.fail(`Location ${a.location.slice(0, 160)}`);
  if (!a.body.includes(code)) f.fail(`the answer does not name ${code}: ${a.body.slice(0, 120)}`);
  if (a.setCookies.length > 0) f.fail(`Set-Cookie ${a.setCookies.join(" | ")}`);
  f.output(a.body);
}

/** A refusal rendered as the partner's ERROR_URL with the code. */
function refusedToErrorUrl(f: Findings, a: Answer, code: string): void {
  const location = a.location ?? "";
  if (a.status !== 303 || !location.startsWith(`${ERROR_URL}?`)) {
    f.fail(`answered ${a.status} ${location.slice(0, 160)}, expected 303 to ERROR_URL`);
    return;
  }
  const got = new URL(location).searchParams.get("error");
  if (got !== code) f.fail(`ERROR_URL carries error=${got}, expected ${code}`);
  if (a.setCookies.length > 0) f.fail(`Set-Cookie ${a.setCookies.join(" | ")}`);
  f.output(location, a.body);
}

/** Whatever the attacker obtained, it carries no `result` (one that verifies would be the worst case). */
async function noResult(f: Findings, location: string | null): Promise<void> {
  if (location === null || !URL.canParse(location)) return;
  const url = new URL(location);
  const result = url.searchParams.get("result");
  if (result === null) return;
  try {
    const claims = await verifyResult(result, RESULT_KEY, { audience: url.origin });
    f.fail(`the redirect carries a result that verifies: status=${claims.status} sub=${claims.sub ?? ""}`);
  } catch {
    f.fail("the redirect carries a result (which does not verify)");
  }
}

/** The real flow's answer: 303 to the return URL with this outcome and a `result` that verifies for it. */
async function genuine(
  f: Findings,
  a: Answer,
  want: { id: string; status: "success" | "fail"; error?: string },
): Promise<ResultClaims | undefined> {
  const location = a.location ?? "";
  if (a.status !== 303 || !location.startsWith(`${RETURN_URL}&`)) {
    f.fail(`the bound browser got ${a.status} ${location.slice(0, 160)}, expected 303 to the return URL`);
    return undefined;
  }
  const params = new URL(location).searchParams;
  if (params.get("connectionId") !== want.id || params.get("status") !== want.status) {
    f.fail(
      `the bound browser went back with connectionId=${params.get("connectionId")} status=${params.get("status")}`,
    );
  }
  try {
    const claims = await verifyResult(params.get("result"), RESULT_KEY, { audience: APP, issuer: HOST });
    if (claims.sub !== want.id || claims.status !== want.status || claims.error !== want.error) {
      f.fail(`the bound browser's result says sub=${claims.sub} status=${claims.status} error=${claims.error}`);
    }
    return claims;
  } catch (error) {
    f.fail(`the bound browser's result does not verify: ${error instanceof Error ? error.message : String(error)}`);
    return undefined;
  }
}

async function recordStays(f: Findings, id: string): Promise<void> {
  if ((await store.getConnection(id)) === undefined) f.fail("the connection record was spent");
}

/** A KV binding over the real one that counts writes. */
function countingKv(): { kv: KVNamespace; writes(): number } {
  let writes = 0;
  return {
    kv: wrapKv(env.CONNECTIONS, (op) => {
      if (op === "put" || op === "delete") writes++;
    }),
    writes: () => writes,
  };
}

// ---------------------------------------------------------------------------

/** Ways a second browser can arrive: what it sends, given the flow it attacks. */
interface Arrival {
  readonly name: string;
  /** `mode` is the deployment's, for a second browser that starts a flow of its own. */
  headers(send: Send, fake: FakePeaka, flow: BoundFlow, f: Findings, mode: Mode): Promise<Record<string, string>>;
}

const OWN_FLOW_COOKIES: Arrival = {
  name: "with the cookies of a flow of its own",
  async headers(send, fake, _flow, f, mode) {
    const own = new Browser();
    const mine = await boundFlow(send, fake, own, mode);
    f.secret(...mine.secrets);
    return { cookie: own.cookieHeader() };
  },
};

const MADE_UP_TOKEN: Arrival = {
  name: "with a made-up token under the flow's cookie name",
  async headers(_send, _fake, flow, f) {
    const token = madeUpToken();
    f.secret(token);
    return { cookie: `${flow.cookieName}=${token}` };
  },
};

const SECOND_BROWSERS: readonly Arrival[] = [
  { name: "with no cookie", headers: async () => ({}) },
  OWN_FLOW_COOKIES,
  MADE_UP_TOKEN,
  {
    name: "with its own valid token under the flow's cookie name",
    async headers(send, fake, flow, f, mode) {
      const own = new Browser();
      const mine = await boundFlow(send, fake, own, mode);
      f.secret(...mine.secrets);
      return { cookie: `${flow.cookieName}=${own.tokens()[0] ?? ""}` };
    },
  },
  {
    name: "with an empty value under the flow's cookie name",
    headers: async (_send, _fake, flow) => ({ cookie: `${flow.cookieName}=` }),
  },
];

describe("attacks on the outcome", () => {
  it("1: the attacker's own completion URL opened in a second browser", { timeout: 180_000 }, async ({ task }) => {
    const attack = attackFor(task, ROWS.completionElsewhere, RUN_SECRETS);
    const fake = fakePeaka();
    const spellings = [
      { name: "status=success", url: (id: string) => completion(id) },
      {
        name: "Peaka's ?-separated spelling",
        url: (id: string) => `${HOST}/oauth2/complete?connectionId=${id}?status=success`,
      },
      { name: "status=fail", url: (id: string) => completion(id, "fail") },
    ];
    for (const errorUrl of [undefined, ERROR_URL]) {
      const send = workerWith(config(errorUrl ? { ERROR_URL: errorUrl } : {}));
      for (const via of ["api", "link"] as const) {
        for (const second of SECOND_BROWSERS) {
          for (const spelling of spellings) {
            const name = `${errorUrl ? "ERROR_URL set" : "error page"}, ${via} start, second browser ${second.name}, ${spelling.name}`;
            await attack.variant(name, async (f) => {
              const attacker = new Browser();
              const flow = await boundFlow(send, fake, attacker, "relay", via);
              f.secret(...flow.secrets);
              const url = spelling.url(flow.id);
              const headers = { accept: BROWSER.accept, ...(await second.headers(send, fake, flow, f, "relay")) };
              const elsewhere = await bare(send, url, headers);
              if (errorUrl) refusedToErrorUrl(f, elsewhere, "browser_mismatch");
              else refused(f, elsewhere, 403, "browser_mismatch");
              await noResult(f, elsewhere.location);
              await recordStays(f, flow.id);
              // Not spent: the bound browser completes, once.
              const own = await read(await attacker.get(send, url));
              const status = spelling.name === "status=fail" ? "fail" : "success";
              await genuine(f, own, {
                id: flow.id,
                status,
                ...(status === "fail" ? { error: "connection_failed" } : {}),
              });
              if ((await store.getConnection(flow.id)) !== undefined)
                f.fail("the bound completion did not spend the record");
            });
          }
        }
      }
    }
    attack.expectHeld(60);
  });

  it("2: a hand-made completion for a flow started but never called back", { timeout: 180_000 }, async ({ task }) => {
    const attack = attackFor(task, ROWS.handMadeCompletion, RUN_SECRETS);
    const fake = fakePeaka();
    const sends = {
      relay: workerWith(config()),
      exchange: workerWith(config(EXCHANGE)),
      relayFallback: workerWith(config({ DEFAULT_RETURN_URL })),
      exchangeFallback: workerWith(config({ ...EXCHANGE, DEFAULT_RETURN_URL })),
    };
    const senders: readonly Arrival[] = [
      OWN_FLOW_COOKIES,
      {
        name: "from no browser at all (no cookie, Accept */*)",
        headers: async () => ({ accept: "*/*" }),
      },
      MADE_UP_TOKEN,
    ];
    const flows = [
      { name: "relay flow from the server API", mode: "relay", via: "api", send: sends.relay },
      { name: "relay flow from a signed link", mode: "relay", via: "link", send: sends.relay },
      { name: "exchange flow from the server API", mode: "exchange", via: "api", send: sends.exchange },
    ] as const;

    // The victim opened the start (bound); the attacker knows the connection id.
    for (const kind of flows) {
      for (const sender of senders) {
        for (const status of ["success", "fail"] as const) {
          await attack.variant(`${kind.name}, bound, ${sender.name}, status=${status}`, async (f) => {
            const victim = new Browser();
            const flow = await boundFlow(kind.send, fake, victim, kind.mode, kind.via);
            f.secret(...flow.secrets);
            const headers = { accept: BROWSER.accept, ...(await sender.headers(kind.send, fake, flow, f, kind.mode)) };
            const forged = await bare(kind.send, completion(flow.id, status), headers);
            // An exchange-mode flow never ends at the completion: refused for whoever sends it.
            if (kind.mode === "exchange") refused(f, forged, 404, "unknown_connection");
            else refused(f, forged, 403, "browser_mismatch");
            await noResult(f, forged.location);
            await recordStays(f, flow.id);
            // The real flow, in the bound browser, still ends with a result that verifies.
            if (kind.mode === "relay") {
              await genuine(f, await read(await victim.get(kind.send, completion(flow.id))), {
                id: flow.id,
                status: "success",
              });
            } else {
              const code = secret("code");
              f.secret(code);
              const own = await read(await victim.get(kind.send, callback({ code, state: flow.state })));
              const claims = await genuine(f, own, { id: flow.id, status: "success" });
              if (claims && claims.via !== "exchange") f.fail(`the exchange's result says via=${claims.via}`);
            }
          });
        }
      }
    }

    // Nobody opened the startUrl: there is no connection record to complete.
    for (const mode of ["relay", "exchange"] as const) {
      for (const fallback of [false, true]) {
        const send = fallback ? (mode === "relay" ? sends.relayFallback : sends.exchangeFallback) : sends[mode];
        for (const sender of senders.slice(0, 2)) {
          for (const status of ["success", "fail"] as const) {
            const name = `${mode} startUrl never opened${fallback ? ", DEFAULT_RETURN_URL set" : ""}, ${sender.name}, status=${status}`;
            await attack.variant(name, async (f) => {
              const started = await apiStart(send, mode);
              f.secret(started.token);
              // Nothing is bound yet: these senders read no field of the flow.
              const unbound: BoundFlow = {
                id: started.id,
                state: "",
                consent: "",
                browser: new Browser(),
                cookieName: "",
                secrets: [],
              };
              const headers = { accept: BROWSER.accept, ...(await sender.headers(send, fake, unbound, f, mode)) };
              const forged = await bare(send, completion(started.id, status), headers);
              if (fallback) {
                const location = forged.location ?? "";
                if (forged.status !== 303 || !location.startsWith(`${DEFAULT_RETURN_URL}?`)) {
                  f.fail(
                    `answered ${forged.status} ${location.slice(0, 160)}, expected the DEFAULT_RETURN_URL fallback`,
                  );
                }
                f.output(location);
              } else {
                refused(f, forged, 404, "unknown_connection");
              }
              await noResult(f, forged.location);
            });
          }
        }
      }
    }
    attack.expectHeld(34);
  });

  it("3: an invented connection id with DEFAULT_RETURN_URL set", { timeout: 120_000 }, async ({ task }) => {
    const attack = attackFor(task, ROWS.inventedId, RUN_SECRETS);
    const fake = fakePeaka();
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";
    const randomId = (length: number) =>
      Array.from(crypto.getRandomValues(new Uint8Array(length)), (b) => alphabet[b % alphabet.length]).join("");
    const ids = [
      "a",
      "-",
      "_",
      "0",
      "A".repeat(128),
      "conn_1",
      "conn_00000000-0000-0000-0000-000000000000",
      ...Array.from({ length: 25 }, () => `conn_${crypto.randomUUID()}`),
      ...Array.from({ length: 68 }, (_, i) => randomId(1 + ((i * 37) % 128))),
    ];
    for (const mode of ["relay", "exchange"] as const) {
      const send = workerWith(config({ DEFAULT_RETURN_URL, ...(mode === "exchange" ? EXCHANGE : {}) }));
      const attacker = new Browser();
      const own = await boundFlow(send, fake, attacker, mode);
      // The attacker's own flow, completed: its id is spent. A second one keeps a live cookie in the jar.
      if (mode === "relay") await attacker.get(send, completion(own.id));
      const live = await boundFlow(send, fake, attacker, mode);
      const spent = Array.from({ length: 5 }, () => own.id);
      for (const [index, id] of [...ids, ...spent].entries()) {
        const status = index % 3 === 2 ? "fail" : "success";
        const withCookie = index % 2 === 1;
        const sep = index % 4 === 3 ? "?" : "&";
        const isSpent = index >= ids.length;
        // In exchange mode the attacker's flow never used the completion: its record is live and bound to them.
        if (isSpent && mode === "exchange") continue;
        const name = `${mode}, ${isSpent ? "spent" : "invented"} id ${id.slice(0, 24)}${id.length > 24 ? "…" : ""}, status=${status}, ${withCookie ? "attacker's cookies" : "no cookie"}, separator ${sep}`;
        await attack.variant(name, async (f) => {
          f.secret(...own.secrets, ...live.secrets);
          const url = `${HOST}/oauth2/complete?connectionId=${id}${sep}status=${status}`;
          const a = await bare(send, url, withCookie ? { cookie: attacker.cookieHeader() } : {});
          const location = a.location ?? "";
          if (a.status !== 303 || !location.startsWith(`${DEFAULT_RETURN_URL}?`)) {
            f.fail(`answered ${a.status} ${location.slice(0, 160)}, expected the DEFAULT_RETURN_URL fallback`);
            return;
          }
          const params = new URL(location).searchParams;
          if (params.has("result")) f.fail("the fallback carries a result");
          await noResult(f, location);
          if (params.get("connectionId") !== id) f.fail(`connectionId=${params.get("connectionId")}`);
          if (a.setCookies.length > 0) f.fail(`Set-Cookie ${a.setCookies.join(" | ")}`);
          f.output(location);
        });
      }
    }
    attack.expectHeld(200);
  });

  it("4: an exchange callback replayed from another client", { timeout: 180_000 }, async ({ task }) => {
    const attack = attackFor(task, ROWS.exchangeReplay, RUN_SECRETS);
    const fake = fakePeaka();
    const send = workerWith(config(EXCHANGE));

    interface Replay {
      readonly name: string;
      send(flow: BoundFlow, code: string, f: Findings): Promise<Answer>;
    }
    const attackerFlow = async (f: Findings) => {
      const attacker = new Browser();
      const mine = await boundFlow(send, fake, attacker, "exchange");
      f.secret(...mine.secrets);
      return { attacker, mine };
    };
    const replays: readonly Replay[] = [
      { name: "the same URL, no cookie", send: (flow, code) => bare(send, callback({ code, state: flow.state })) },
      {
        name: "the same parameters by form_post, no cookie",
        send: async (flow, code) =>
          read(await new Browser().post(send, CALLBACK, new URLSearchParams({ code, state: flow.state }).toString())),
      },
      {
        name: "the same URL from the attacker's browser (bound to a flow of its own)",
        async send(flow, code, f) {
          const { attacker } = await attackerFlow(f);
          return read(await attacker.get(send, callback({ code, state: flow.state })));
        },
      },
      {
        name: "the same URL with a made-up token under the victim's cookie name",
        async send(flow, code, f) {
          const token = madeUpToken();
          f.secret(token);
          return bare(send, callback({ code, state: flow.state }), { cookie: `${flow.cookieName}=${token}` });
        },
      },
      {
        name: "the same URL with the attacker's valid token under the victim's cookie name",
        async send(flow, code, f) {
          const { attacker } = await attackerFlow(f);
          const cookie = `${flow.cookieName}=${attacker.tokens()[0] ?? ""}`;
          return bare(send, callback({ code, state: flow.state }), { cookie });
        },
      },
      {
        name: "the victim's code with the attacker's own state, from the attacker's browser",
        async send(_flow, code, f) {
          const { attacker, mine } = await attackerFlow(f);
          return read(await attacker.get(send, callback({ code, state: mine.state })));
        },
      },
      {
        name: "the code alone (state dropped), no cookie",
        send: (_flow, code) => bare(send, callback({ code })),
      },
      {
        name: "the same URL with a parameter added, no cookie",
        send: (flow, code) => bare(send, `${callback({ code, state: flow.state })}&scope=email`),
      },
      {
        name: "the same parameters by form_post from the attacker's browser",
        async send(flow, code, f) {
          const { attacker } = await attackerFlow(f);
          return read(await attacker.post(send, CALLBACK, new URLSearchParams({ code, state: flow.state }).toString()));
        },
      },
    ];
    const originals = [
      { name: "after a success by query", refused: false, form: false },
      { name: "after a success by form_post", refused: false, form: true },
      { name: "after Peaka refused the code", refused: true, form: false },
    ];
    for (const original of originals) {
      for (const replay of replays) {
        await attack.variant(`${original.name}: ${replay.name}`, async (f) => {
          const victim = new Browser();
          const flow = await boundFlow(send, fake, victim, "exchange");
          const code = secret(original.refused ? "refused-code" : "code");
          f.secret(...flow.secrets, code);
          const params = new URLSearchParams({ code, state: flow.state });
          const first = await read(
            original.form
              ? await victim.post(send, CALLBACK, params.toString())
              : await victim.get(send, `${CALLBACK}?${params}`),
          );
          const want = original.refused
            ? ({ id: flow.id, status: "fail", error: "peaka_rejected" } as const)
            : ({ id: flow.id, status: "success" } as const);
          await genuine(f, first, want);
          if (fake.exchangesOf(code) !== 1)
            throw new Error(`setup: Peaka saw the code ${fake.exchangesOf(code)} times`);

          const replayed = await replay.send(flow, code, f);
          refused(f, replayed, 403, "browser_mismatch");
          await noResult(f, replayed.location);
          if (fake.exchangesOf(code) !== 1) f.fail(`Peaka received the code ${fake.exchangesOf(code)} times`);

          // The victim's browser repeats the callback: the first answer again, without a second call.
          const again = await read(await victim.get(send, `${CALLBACK}?${params}`));
          await genuine(f, again, want);
          const strip = (location: string | null) => {
            const url = new URL(location ?? "about:blank");
            url.searchParams.delete("result");
            return url.href;
          };
          if (strip(again.location) !== strip(first.location)) {
            f.fail(`the original browser got ${again.location}, first ${first.location}`);
          }
          if (fake.exchangesOf(code) !== 1) f.fail(`Peaka received the code ${fake.exchangesOf(code)} times`);
        });
      }
    }
    attack.expectHeld(27);
  });

  it("5: a victim consenting on the attacker's start link or consent URL", { timeout: 180_000 }, async ({ task }) => {
    const attack = attackFor(task, ROWS.victimConsents, RUN_SECRETS);
    const fake = fakePeaka();
    const starts = [
      { name: "relay, the attacker's startUrl", mode: "relay", via: "api" },
      { name: "relay, the attacker's signed link", mode: "relay", via: "link" },
      { name: "exchange, the attacker's startUrl", mode: "exchange", via: "api" },
    ] as const;
    const victims = [
      { name: "no cookie", own: false },
      { name: "cookies of its own flow", own: true },
    ];
    const arrivals = ["query", "form_post", "denial"] as const;
    for (const errorUrl of [undefined, ERROR_URL]) {
      for (const start of starts) {
        const send = workerWith(
          config({ ...(start.mode === "exchange" ? EXCHANGE : {}), ...(errorUrl ? { ERROR_URL: errorUrl } : {}) }),
        );
        for (const victimKind of victims) {
          for (const arrival of arrivals) {
            const name = `${errorUrl ? "ERROR_URL set" : "error page"}, ${start.name}, victim with ${victimKind.name}, ${arrival}`;
            await attack.variant(name, async (f) => {
              const attacker = new Browser();
              const flow = await boundFlow(send, fake, attacker, start.mode, start.via);
              f.secret(...flow.secrets);
              const victim = new Browser();
              if (victimKind.own) f.secret(...(await boundFlow(send, fake, victim, start.mode)).secrets);
              // The provider sends the victim's browser back with the victim's code and the attacker's state.
              const code = secret("code");
              f.secret(code);
              const params = new URLSearchParams(
                arrival === "denial" ? { error: "access_denied", state: flow.state } : { code, state: flow.state },
              );
              const a = await read(
                arrival === "form_post"
                  ? await victim.post(send, CALLBACK, params.toString())
                  : await victim.get(send, `${CALLBACK}?${params}`),
              );
              if (errorUrl) refusedToErrorUrl(f, a, "browser_mismatch");
              else refused(f, a, 403, "browser_mismatch");
              await noResult(f, a.location);
              if (a.location?.includes(code) || a.location?.startsWith(PEAKA_CALLBACK)) {
                f.fail(`the code went on: ${a.location}`);
              }
              if (fake.exchangesOf(code) > 0) f.fail("Peaka received the victim's code");
              if ((await store.getOutcome(code)) !== undefined) f.fail("an outcome was stored for the victim's code");
            });
          }
        }
      }
    }
    attack.expectHeld(36);
  });

  it("6: a forged host on the API, signed links and startUrls", { timeout: 180_000 }, async ({ task }) => {
    const attack = attackFor(task, ROWS.forgedHost, RUN_SECRETS);
    const fake = fakePeaka();
    const counted = countingKv();
    const sends = {
      relay: workerWith(config({ CONNECTIONS: counted.kv })),
      exchange: workerWith(config({ ...EXCHANGE, CONNECTIONS: counted.kv })),
    };

    interface Entry {
      readonly name: string;
      readonly json: boolean;
      /**
       * Sends the request on `origin` with `headers`. Setup on the listed host
       * (a startUrl to try elsewhere) comes first and then calls `mark`: what
       * Peaka and KV saw is counted from there.
       */
      run(
        origin: string,
        headers: Record<string, string>,
        f: Findings,
        mark: () => void,
      ): Promise<Answer & { startToken?: string }>;
      /** The worker-built URLs to compare with the listed origin, from the answer (and Peaka's record). */
      urls?(a: Answer, created: PeakaCall | undefined): string[];
    }
    const api = (method: "POST" | "PUT", body: object, headers: Record<string, string>): RequestInit => {
      const init = apiInit(method, body);
      return { ...init, headers: { ...(init.headers as Record<string, string>), ...headers } };
    };
    const createBody = (mode: Mode) => ({
      type: "google_analytics",
      name: "A",
      returnUrl: RETURN_URL,
      ...(mode === "exchange" ? { credential: CLIENT } : {}),
    });
    const entries: readonly Entry[] = [
      {
        name: "POST /api/v1/connections (relay)",
        json: true,
        run: async (origin, headers) =>
          read(await sends.relay(`${origin}/api/v1/connections`, api("POST", createBody("relay"), headers))),
        urls: (a, created) => [
          (JSON.parse(a.body) as { startUrl: string }).startUrl,
          (JSON.parse(created?.body ?? "{}") as { connectionCallback: string }).connectionCallback,
        ],
      },
      {
        name: "POST /api/v1/connections (exchange)",
        json: true,
        run: async (origin, headers) =>
          read(await sends.exchange(`${origin}/api/v1/connections`, api("POST", createBody("exchange"), headers))),
        urls: (a, created) => [
          (JSON.parse(a.body) as { startUrl: string }).startUrl,
          (JSON.parse(created?.body ?? "{}") as { credential: { redirectUrl: string } }).credential.redirectUrl,
        ],
      },
      {
        name: "PUT /api/v1/connections/{id}/return",
        json: true,
        async run(origin, headers, f) {
          const state = secret("state");
          f.secret(state);
          const body = { returnUrl: RETURN_URL, consentUrl: consentUrl(state) };
          const url = `${origin}/api/v1/connections/conn_${crypto.randomUUID()}/return`;
          return read(await sends.relay(url, api("PUT", body, headers)));
        },
        urls: (a) => [(JSON.parse(a.body) as { startUrl: string }).startUrl],
      },
      {
        name: "a signed start link",
        json: false,
        run: async (origin, headers) =>
          read(await sends.relay(await link({ baseUrl: origin }), { headers: { accept: BROWSER.accept, ...headers } })),
        urls: (_a, created) => [
          (JSON.parse(created?.body ?? "{}") as { connectionCallback: string }).connectionCallback,
        ],
      },
      {
        name: "an unopened startUrl",
        json: false,
        async run(origin, headers, f, mark) {
          const started = await apiStart(sends.relay, "relay");
          f.secret(started.token);
          mark();
          const url = started.startUrl.replace(HOST, origin);
          return {
            ...(await read(await sends.relay(url, { headers: { accept: BROWSER.accept, ...headers } }))),
            startToken: started.token,
          };
        },
      },
    ];

    // Hosts that are not listed, however they are spelled; the Host header says the same as the URL.
    const unlisted: { name: string; origin: string; headers?: Record<string, string> }[] = [
      { name: "evil.attacker.net", origin: "https://evil.attacker.net" },
      { name: "EVIL.ATTACKER.NET", origin: "https://EVIL.ATTACKER.NET" },
      { name: "Evil.Attacker.Net with a trailing dot", origin: "https://Evil.Attacker.Net." },
      { name: "evil.attacker.net:8443", origin: "https://evil.attacker.net:8443" },
      { name: "evil.attacker.net:443 written out", origin: "https://evil.attacker.net:443" },
      { name: "the listed host with a trailing dot", origin: "https://connect.example.com." },
      { name: "the listed host in upper case with a trailing dot", origin: "https://CONNECT.EXAMPLE.COM." },
      { name: "the listed host on another port", origin: "https://connect.example.com:8443" },
      { name: "the listed host over http", origin: "http://connect.example.com" },
      {
        name: "the listed host as a subdomain of the attacker's",
        origin: "https://connect.example.com.evil.attacker.net",
      },
      { name: "a look-alike", origin: "https://connect-example.com" },
      { name: "a subdomain of the listed host", origin: "https://x.connect.example.com" },
      { name: "the listed loopback origin over https", origin: "https://localhost:8787" },
      { name: "loopback on another port", origin: "http://localhost:8788" },
      { name: "127.0.0.1 for the listed localhost", origin: "http://127.0.0.1:8787" },
      {
        name: "evil.attacker.net with X-Forwarded-Host naming the listed host",
        origin: "https://evil.attacker.net",
        headers: { "x-forwarded-host": "connect.example.com", "x-forwarded-proto": "https" },
      },
    ];
    for (const host of unlisted) {
      for (const entry of entries) {
        await attack.variant(`${entry.name} on ${host.name}`, async (f) => {
          let creates = fake.creates.length;
          let writes = counted.writes();
          const mark = () => {
            creates = fake.creates.length;
            writes = counted.writes();
          };
          // The Host header as the client wrote it (the URL's host is normalised).
          const headers = { host: host.origin.replace(/^https?:\/\//, ""), ...host.headers };
          const a = await entry.run(host.origin, headers, f, mark);
          refused(f, a, 421, "misdirected_request");
          if (entry.json && !a.body.startsWith("{")) f.fail("the API did not answer JSON");
          if (fake.creates.length !== creates) f.fail("Peaka was asked to create a connection");
          if (counted.writes() !== writes) f.fail(`KV was written ${counted.writes() - writes} times`);
          if (a.startToken !== undefined) {
            const token = a.startToken;
            if ((await store.getBegin(token)) === undefined) f.fail("the startUrl was spent");
            const opened = await read(await new Browser().get(sends.relay, `${HOST}/oauth2/begin?t=${token}`));
            if (opened.status !== 303) f.fail(`the startUrl then answered ${opened.status} on the listed host`);
          }
        });
      }
    }

    // Listed origins with forged headers: every URL the worker builds is on the listed origin.
    const forgeries: Record<string, string>[] = [
      { host: "evil.attacker.net" },
      { "x-forwarded-host": "evil.attacker.net" },
      { forwarded: "host=evil.attacker.net;proto=https" },
      { "x-forwarded-host": "evil.attacker.net:8443", "x-forwarded-proto": "http", "x-forwarded-port": "8443" },
      { "x-original-host": "evil.attacker.net", "x-host": "evil.attacker.net" },
    ];
    const listed = [HOST, "https://connect.eu.example.com", "http://localhost:8787"];
    for (const origin of listed) {
      for (const headers of forgeries) {
        for (const entry of entries.filter((e) => e.urls)) {
          await attack.variant(`${entry.name} on ${origin} with ${JSON.stringify(headers)}`, async (f) => {
            const creates = fake.creates.length;
            const a = await entry.run(origin, headers, f, () => undefined);
            if (a.status >= 400) {
              f.fail(`answered ${a.status} ${a.body.slice(0, 160)}`);
              return;
            }
            if (entry.json) f.output(a.body);
            const created = fake.creates.length > creates ? fake.creates.at(-1) : undefined;
            for (const url of entry.urls?.(a, created) ?? []) {
              if (typeof url !== "string" || !url.startsWith(`${origin}/`)) f.fail(`built ${url} on ${origin}`);
            }
            for (const call of fake.creates.slice(creates)) {
              if (/attacker|8443/i.test(call.body)) f.fail(`Peaka received ${call.body.slice(0, 200)}`);
            }
            if (/attacker/i.test(`${a.body} ${a.location ?? ""}`)) f.fail("the answer names the forged host");
          });
        }
      }
    }
    attack.expectHeld(140);
  });

  it("7: HEAD on the completion, the startUrl, a signed link and the exchange callback", { timeout: 120_000 }, async ({
    task,
  }) => {
    const attack = attackFor(task, ROWS.head, RUN_SECRETS);
    const fake = fakePeaka();
    const relay = workerWith(config());
    const exchange = workerWith(config(EXCHANGE));
    const heads = [
      { name: "a bare HEAD", headers: (_b: Browser) => ({}) },
      { name: "HEAD with the flow's cookie", headers: (b: Browser) => ({ cookie: b.cookieHeader() }) },
      {
        name: "HEAD asking for JSON, with the cookie",
        headers: (b: Browser) => ({ accept: "application/json", cookie: b.cookieHeader() }),
      },
      {
        name: "three HEADs in a row, with the cookie",
        headers: (b: Browser) => ({ cookie: b.cookieHeader() }),
        times: 3,
      },
    ];
    const sendHead = async (send: Send, url: string, headers: Record<string, string>, times = 1) => {
      const answers: Answer[] = [];
      for (let i = 0; i < times; i++) answers.push(await read(await send(url, { method: "HEAD", headers })));
      return answers;
    };
    const headRefused = (f: Findings, answers: Answer[], allow: string) => {
      for (const a of answers) {
        if (a.status !== 405) f.fail(`HEAD answered ${a.status} ${a.location ?? ""}`);
        if (a.location !== null) f.fail(`HEAD got Location ${a.location}`);
        if (a.setCookies.length > 0) f.fail(`HEAD got Set-Cookie ${a.setCookies.join(" | ")}`);
        if (a.allow !== allow) f.fail(`Allow: ${a.allow}, expected ${allow}`);
      }
    };

    for (const head of heads) {
      await attack.variant(`completion: ${head.name}`, async (f) => {
        const b = new Browser();
        const flow = await boundFlow(relay, fake, b, "relay");
        f.secret(...flow.secrets);
        headRefused(f, await sendHead(relay, completion(flow.id), head.headers(b), head.times), "GET");
        await recordStays(f, flow.id);
        await genuine(f, await read(await b.get(relay, completion(flow.id))), { id: flow.id, status: "success" });
      });
      await attack.variant(`/oauth2/begin: ${head.name}`, async (f) => {
        const started = await apiStart(relay, "relay");
        f.secret(started.token);
        const other = new Browser();
        const mine = await boundFlow(relay, fake, other, "relay");
        f.secret(...mine.secrets);
        headRefused(f, await sendHead(relay, started.startUrl, head.headers(other), head.times), "GET");
        if ((await store.getBegin(started.token)) === undefined) f.fail("the startUrl was spent");
        const opened = await read(await new Browser().get(relay, started.startUrl));
        if (opened.status !== 303) f.fail(`the startUrl then answered ${opened.status}`);
      });
      await attack.variant(`signed start link: ${head.name}`, async (f) => {
        const url = await link();
        const creates = fake.creates.length;
        headRefused(f, await sendHead(relay, url, head.headers(new Browser()), head.times), "GET");
        if (fake.creates.length !== creates) f.fail("HEAD created a connection at Peaka");
        const opened = await read(await new Browser().get(relay, url));
        if (opened.status !== 303) f.fail(`the link then answered ${opened.status}`);
        if (fake.creates.length !== creates + 1) f.fail(`${fake.creates.length - creates} connections created`);
      });
      await attack.variant(`exchange callback: ${head.name}`, async (f) => {
        const b = new Browser();
        const flow = await boundFlow(exchange, fake, b, "exchange");
        const code = secret("code");
        f.secret(...flow.secrets, code);
        const url = callback({ code, state: flow.state });
        headRefused(f, await sendHead(exchange, url, head.headers(b), head.times), "GET, POST");
        if (fake.exchangesOf(code) !== 0) f.fail("HEAD sent the code to Peaka");
        await genuine(f, await read(await b.get(exchange, url)), { id: flow.id, status: "success" });
        if (fake.exchangesOf(code) !== 1) f.fail(`Peaka received the code ${fake.exchangesOf(code)} times`);
      });
    }
    attack.expectHeld(16);
  });

  it("8: junk callbacks with random code and state", { timeout: 180_000 }, async ({ task }) => {
    const attack = attackFor(task, ROWS.junkCallbacks, RUN_SECRETS);
    const fake = fakePeaka();
    const counted = countingKv();
    const junkParams = (i: number): Record<string, string> => {
      const code = secret(i % 5 === 0 ? "4/0AX4XfWj" : "code");
      const state = secret("state");
      if (i % 7 === 0) return { code };
      if (i % 11 === 0) return { code, state, iss: "https://accounts.google.com" };
      return { code, state };
    };
    const runs = [
      { name: "exchange", mode: "exchange", limit: undefined },
      { name: "relay", mode: "relay", limit: undefined },
      { name: "exchange, one client IP under CALLBACK_RATE_LIMITER", mode: "exchange", limit: 50 },
    ] as const;
    for (const run of runs) {
      const send = workerWith(
        config({
          CONNECTIONS: counted.kv,
          ...(run.mode === "exchange" ? EXCHANGE : {}),
          ...(run.limit !== undefined ? { CALLBACK_RATE_LIMITER: countingLimiter(run.limit) } : {}),
        }),
      );
      for (let i = 0; i < 200; i++) {
        const form = i % 2 === 1;
        await attack.variant(`${run.name} #${i} (${form ? "form_post" : "query"})`, async (f) => {
          const params = junkParams(i);
          f.secret(...Object.values(params).filter((v) => v.length >= 8 && v !== "https://accounts.google.com"));
          const exchanges = fake.exchanges.length;
          const writes = counted.writes();
          const headers: Record<string, string> = { accept: BROWSER.accept };
          if (run.limit !== undefined) headers["cf-connecting-ip"] = "198.51.100.77";
          const body = new URLSearchParams(params).toString();
          const a = await read(
            form
              ? await send(CALLBACK, {
                  method: "POST",
                  headers: { ...headers, "content-type": "application/x-www-form-urlencoded" },
                  body,
                })
              : await send(`${CALLBACK}?${body}`, { headers }),
          );
          if (run.limit !== undefined && i >= run.limit) refused(f, a, 429, "rate_limited");
          else refused(f, a, 403, "browser_mismatch");
          if (fake.exchanges.length !== exchanges) f.fail("Peaka was called");
          if (counted.writes() !== writes) f.fail(`KV was written ${counted.writes() - writes} times`);
        });
      }
    }
    attack.expectHeld(600);
  });

  it("9: hostile error_description and error in a provider denial", { timeout: 180_000 }, async ({ task }) => {
    const attack = attackFor(task, ROWS.errorDescription, RUN_SECRETS);
    const fake = fakePeaka();
    const send = workerWith(config(EXCHANGE));
    const withErrorUrl = workerWith(config({ ...EXCHANGE, ERROR_URL }));
    const controls = Array.from({ length: 32 }, (_, i) => String.fromCharCode(i));
    const dropped: string[] = [
      "<script>alert(1)</script>",
      "<img src=x onerror=alert(1)>",
      "<svg/onload=alert(1)>",
      "</title><script>alert(document.cookie)</script>",
      "<a href=javascript:alert(1)>Try again</a>",
      "<iframe src=//evil.attacker.net>",
      "<!-- comment -->",
      "<style>body{display:none}</style>",
      "a < b",
      "a > b",
      '" onmouseover="alert(1)',
      "' onfocus='alert(1)' autofocus='",
      'The user said "no"',
      "The user didn't consent",
      "a & b",
      "x&status=success",
      "x&result=eyJhbGciOiJub25lIn0.e30.",
      "&amp;",
      "&#60;script&#62;",
      "&lt;script&gt;",
      "a\\b",
      "\\u003cscript\\u003e",
      "\\x3cscript\\x3e",
      "x\r\nSet-Cookie: pce=stolen",
      "x\nLocation: https://evil.attacker.net",
      "caf\u00e9",
      "\uff1cscript\uff1e",
      "\u202eevil\u202c",
      "a\u200bb",
      "a\u00a0b",
      "a\u2028b",
      "\u{1F600}",
      "\ufeffBOM",
      "a".repeat(257),
      `<${"a".repeat(300)}>`,
      ...controls.map((c) => `a${c}b`),
      "a\u007fb",
    ];
    const harmless = ["The user denied access", "access_denied: User cancelled (code 42)?", "Access was not granted."];
    const badErrors = [
      "<script>",
      "access_denied&status=success",
      "a".repeat(65),
      "access denied",
      "\u00e9rror",
      'x"y',
    ];

    const judgeDenial = async (
      f: Findings,
      a: Answer,
      flow: BoundFlow,
      want: { description?: string; error: string },
    ) => {
      const location = a.location ?? "";
      await genuine(f, a, { id: flow.id, status: "fail", error: want.error });
      if (!location.startsWith(`${RETURN_URL}&`)) return;
      const params = new URL(location).searchParams;
      const got = params.get("error_description");
      if (got !== (want.description ?? null)) {
        f.fail(`error_description=${JSON.stringify(got)}, expected ${JSON.stringify(want.description ?? null)}`);
      }
      const names = new Set([...params.keys()]);
      for (const name of names) {
        if (!["tab", "connectionId", "status", "error", "error_description", "result"].includes(name)) {
          f.fail(`the return URL gained a parameter ${name}`);
        }
      }
      if (params.getAll("status").length !== 1) f.fail(`status appears ${params.getAll("status").length} times`);
      f.output(location);
    };

    const cases = [
      ...dropped.map((description) => ({
        description,
        error: "access_denied",
        passes: false,
        wantError: "access_denied",
      })),
      ...harmless.map((description) => ({
        description,
        error: "access_denied",
        passes: true,
        wantError: "access_denied",
      })),
      ...badErrors.map((error) => ({
        description: "<b>denied</b>",
        error,
        passes: false,
        wantError: "provider_error",
      })),
    ];
    for (const c of cases) {
      for (const form of [false, true]) {
        const shown = JSON.stringify(c.description.length > 40 ? `${c.description.slice(0, 40)}…` : c.description);
        await attack.variant(
          `error=${JSON.stringify(c.error.slice(0, 30))} error_description=${shown} by ${form ? "form_post" : "query"}`,
          async (f) => {
            const b = new Browser();
            const flow = await boundFlow(send, fake, b, "exchange");
            f.secret(...flow.secrets);
            const params = new URLSearchParams({ error: c.error, error_description: c.description, state: flow.state });
            const a = await read(
              form ? await b.post(send, CALLBACK, params.toString()) : await b.get(send, `${CALLBACK}?${params}`),
            );
            await judgeDenial(f, a, flow, { error: c.wantError, ...(c.passes ? { description: c.description } : {}) });
          },
        );
      }
    }
    // No flow known: the partner's ERROR_URL names provider_denied and nothing of the description.
    for (const description of dropped.slice(0, 20)) {
      await attack.variant(
        `no flow known, ERROR_URL set: error_description=${JSON.stringify(description.slice(0, 40))}`,
        async (f) => {
          const state = secret("state");
          f.secret(state);
          const params = new URLSearchParams({ error: "access_denied", error_description: description, state });
          const a = await bare(withErrorUrl, `${CALLBACK}?${params}`, { accept: BROWSER.accept });
          refusedToErrorUrl(f, a, "provider_denied");
          const location = new URL(a.location ?? "https://x.invalid/");
          if (location.searchParams.has("error_description")) f.fail("ERROR_URL carries error_description");
        },
      );
    }
    attack.expectHeld(150);
  });

  it("10: a return URL spelling an allowed host another way, at the server API", { timeout: 120_000 }, async ({
    task,
  }) => {
    const attack = attackFor(task, ROWS.returnUrlAuthority, RUN_SECRETS);
    const fake = fakePeaka();
    const counted = countingKv();
    const send = workerWith(config({ CONNECTIONS: counted.kv }));
    const families = new Set(["percent-encoded-host", "idn-host", "default-port", "numeric-host", "userinfo"]);
    const urls = [
      ...HOSTILE_RETURN_URLS.filter((h) => families.has(h.family)).map((h) => h.url),
      "https://app.example.com./settings",
      "https://APP.EXAMPLE.COM./settings",
      "https://app.example.com.:443/",
      "https://app.example.%63om/",
      "https://app.example.com%2F@evil.attacker.net/",
      "https://app.example.com%40evil.attacker.net/",
      "https://app.example.com%3A443/",
      "https://app.example.com:8443/",
      "https://app.example.com../",
      "https://.app.example.com/",
      "https://app.example.com%00.evil.attacker.net/",
      "https://app.example.com%09/",
    ];
    for (const url of new Set(urls)) {
      for (const method of ["POST", "PUT"] as const) {
        await attack.variant(`${method} returnUrl=${JSON.stringify(url.slice(0, 80))}`, async (f) => {
          const creates = fake.creates.length;
          const writes = counted.writes();
          const state = secret("state");
          f.secret(state);
          const res =
            method === "POST"
              ? await send(
                  `${HOST}/api/v1/connections`,
                  apiInit("POST", { type: "google_analytics", name: "A", returnUrl: url }),
                )
              : await send(
                  `${HOST}/api/v1/connections/conn_${crypto.randomUUID()}/return`,
                  apiInit("PUT", { returnUrl: url, consentUrl: consentUrl(state) }),
                );
          const a = await read(res);
          refused(f, a, 400, "return_url_not_allowed");
          try {
            const body = JSON.parse(a.body) as { error: string; fields?: { field: string }[] };
            if (body.error !== "return_url_not_allowed") f.fail(`error ${body.error}`);
            if (body.fields?.[0]?.field !== "returnUrl") f.fail(`fields ${JSON.stringify(body.fields)}`);
          } catch {
            f.fail("the API did not answer JSON");
          }
          if (fake.creates.length !== creates) f.fail("Peaka was asked to create a connection");
          if (counted.writes() !== writes) f.fail(`KV was written ${counted.writes() - writes} times`);
        });
      }
    }
    attack.expectHeld(150);
  });

  it("11: a bad ERROR_URL or DEFAULT_RETURN_URL", { timeout: 120_000 }, async ({ task }) => {
    const attack = attackFor(task, ROWS.badConfigUrl, RUN_SECRETS);
    const values = [
      "https:evil.com",
      "https:/evil.com",
      "https:///evil.com",
      "https:app.example.com/oauth-error",
      "https:/app.example.com/oauth-error",
      "https://evil.com/oauth-error",
      "//evil.com/oauth-error",
      "http://app.example.com/oauth-error",
      "https://app.example.com@evil.com/",
      "https://evil.com@app.example.com/oauth-error",
      "https://app.example.com.evil.com/oauth-error",
      "https://app.example.com./oauth-error",
      "javascript:alert(1)",
      "data:text/html,<script>alert(1)</script>",
      "https://app.example.%EF%BD%83om/oauth-error",
      "https://app.example.\uff43om/oauth-error",
      "https://app.example.com:443/oauth-error",
      "https://app.example.com\\@evil.com/",
      "https://app.example.com/oauth error",
      "https://app.example.com/\u0000x",
      "/oauth-error",
      "oauth-error",
      "ftp://app.example.com/oauth-error",
      "https://[::1]/oauth-error",
      "https://0x7f.1/oauth-error",
      "https://%61pp.example.com/oauth-error",
    ];
    const routes = [
      {
        name: "the completion, as a browser",
        url: completion("conn_1"),
        headers: { accept: BROWSER.accept },
        json: false,
      },
      { name: "the completion, asking for JSON", url: completion("conn_1"), headers: API_CLIENT, json: true },
      {
        name: "the server API",
        url: `${HOST}/api/v1/connections`,
        headers: { ...API_CLIENT, authorization: `Bearer ${ADMIN_TOKEN}` },
        json: true,
      },
    ];
    for (const variable of ["ERROR_URL", "DEFAULT_RETURN_URL"] as const) {
      for (const value of values) {
        const send = workerWith(config({ [variable]: value }));
        for (const route of routes) {
          await attack.variant(`${variable}=${JSON.stringify(value)}: ${route.name}`, async (f) => {
            const lines = attack.watch.lines.length;
            const a = await bare(send, route.url, route.headers);
            refused(f, a, 500, "config_invalid");
            if (!a.body.includes(variable)) f.fail(`the answer does not name ${variable}`);
            if (variable === "ERROR_URL" && a.body.includes("DEFAULT_RETURN_URL"))
              f.fail("the answer names the wrong variable");
            if (route.json !== a.body.startsWith("{")) f.fail(`answered ${route.json ? "HTML" : "JSON"}`);
            const echoes = (text: string) => value.length >= 6 && text.includes(value);
            if (echoes(a.body)) f.fail("the answer echoes the value");
            const logged = attack.watch.lines.slice(lines).filter(echoes);
            if (logged.length > 0) f.fail(`a log line echoes the value: ${logged[0]?.slice(0, 200)}`);
          });
        }
      }
    }
    attack.expectHeld(150);
  });

  it("12: forged result tokens", { timeout: 60_000 }, async ({ task }) => {
    const attack = attackFor(task, ROWS.resultTokens, RUN_SECRETS);
    const now = Date.now();
    const claims = {
      iss: HOST,
      aud: APP,
      sub: "conn_victim",
      status: "fail",
      error: "access_denied",
      zone: "us",
      via: "exchange",
    } as const;
    const good = await signResult(claims, RESULT_KEY, { now });
    const [header = "", payload = "", signature = ""] = good.split(".");
    const encoder = new TextEncoder();
    const b64 = (bytes: Uint8Array) =>
      btoa(String.fromCharCode(...bytes))
        .replaceAll("+", "-")
        .replaceAll("/", "_")
        .replace(/=+$/, "");
    const b64json = (value: unknown) => b64(encoder.encode(typeof value === "string" ? value : JSON.stringify(value)));
    const decoded = JSON.parse(atob(payload.replaceAll("-", "+").replaceAll("_", "/"))) as Record<string, unknown>;
    const hmac = async (hash: "SHA-256" | "SHA-384" | "SHA-512", input: string, key = RESULT_KEY) => {
      const k = await crypto.subtle.importKey("raw", encoder.encode(key), { name: "HMAC", hash }, false, ["sign"]);
      return b64(new Uint8Array(await crypto.subtle.sign("HMAC", k, encoder.encode(input))));
    };
    /** A token whose header and payload are these, signed with the key under `hash` (a forger who holds the key). */
    const signedAs = async (
      h: unknown,
      p: unknown,
      hash: "SHA-256" | "SHA-384" | "SHA-512" = "SHA-256",
      key = RESULT_KEY,
    ) => {
      const input = `${b64json(h)}.${b64json(p)}`;
      return `${input}.${await hmac(hash, input, key)}`;
    };
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

    const tokens: {
      name: string;
      token: unknown;
      code: string;
      options?: { audience?: string; issuer?: string; now?: number };
    }[] = [];
    // The payload changed, the signature kept.
    const tampered = (name: string, change: Record<string, unknown>) =>
      tokens.push({
        name: `payload: ${name}`,
        token: `${header}.${b64json({ ...decoded, ...change })}.${signature}`,
        code: "signature",
      });
    tampered("status flipped to success", { status: "success", error: undefined });
    tampered("another connection", { sub: "conn_attacker" });
    tampered("another audience", { aud: "https://evil.attacker.net" });
    tampered("another issuer", { iss: "https://evil.attacker.net" });
    tampered("expiry moved out", { exp: (decoded.exp as number) + 86_400 });
    tampered("issued later", { iat: (decoded.iat as number) + 60 });
    tampered("via redirect", { via: "redirect" });
    tampered("a claim added", { admin: true });
    tampered("a new jti", { jti: crypto.randomUUID() });
    tokens.push({
      name: "payload: re-encoded with whitespace",
      token: `${header}.${b64json(JSON.stringify(decoded, null, 1))}.${signature}`,
      code: "signature",
    });
    tokens.push({
      name: "payload: base64 padding added",
      token: `${header}.${payload}==.${signature}`,
      code: "malformed",
    });
    tokens.push({
      name: "payload: standard base64 alphabet",
      token: `${header}.${payload.replaceAll("-", "+").replaceAll("_", "/")}x+/.${signature}`,
      code: "malformed",
    });
    // The signature changed: each character swapped for another.
    for (let i = 0; i < signature.length; i++) {
      const ch = signature[i] ?? "A";
      const swapped = alphabet[(alphabet.indexOf(ch) + 17) % alphabet.length] ?? "A";
      tokens.push({
        name: `signature: character ${i} changed`,
        token: `${header}.${payload}.${signature.slice(0, i)}${swapped}${signature.slice(i + 1)}`,
        code: "signature",
      });
    }
    // The last character's two spare bits: the same MAC spelled differently.
    const last = alphabet.indexOf(signature.at(-1) ?? "A");
    tokens.push({
      name: "signature: non-canonical spelling of the same MAC",
      token: `${header}.${payload}.${signature.slice(0, -1)}${alphabet[last ^ 1]}`,
      code: "signature",
    });
    tokens.push({
      name: "signature: truncated",
      token: `${header}.${payload}.${signature.slice(0, -1)}`,
      code: "signature",
    });
    tokens.push({ name: "signature: extended", token: `${good}A`, code: "signature" });
    tokens.push({ name: "signature: empty", token: `${header}.${payload}.`, code: "signature" });
    tokens.push({
      name: "signature: another key",
      token: await signResult(claims, `${RESULT_KEY}-other`, { now }),
      code: "signature",
    });
    const other = (await signResult({ ...claims, status: "success", error: undefined }, RESULT_KEY, { now })).split(
      ".",
    );
    tokens.push({
      name: "signature: of another valid token",
      token: `${header}.${other[1]}.${signature}`,
      code: "signature",
    });
    // The header: alg none and other algorithms, with and without the key.
    for (const alg of ["none", "None", "NONE", "nOnE"]) {
      tokens.push({
        name: `alg ${alg}, empty signature`,
        token: `${b64json({ alg, typ: "JWT" })}.${b64json({ ...decoded, status: "success", error: undefined })}.`,
        code: "algorithm",
      });
      tokens.push({
        name: `alg ${alg}, original signature`,
        token: `${b64json({ alg, typ: "JWT" })}.${payload}.${signature}`,
        code: "algorithm",
      });
    }
    tokens.push({
      name: "alg HS512, signed with the key",
      token: await signedAs({ alg: "HS512", typ: "JWT" }, decoded, "SHA-512"),
      code: "algorithm",
    });
    tokens.push({
      name: "alg HS384, signed with the key",
      token: await signedAs({ alg: "HS384", typ: "JWT" }, decoded, "SHA-384"),
      code: "algorithm",
    });
    tokens.push({
      name: "alg HS512 claiming HS256's MAC",
      token: await signedAs({ alg: "HS512", typ: "JWT" }, decoded),
      code: "algorithm",
    });
    tokens.push({
      name: "alg RS256",
      token: `${b64json({ alg: "RS256", typ: "JWT" })}.${payload}.${signature}`,
      code: "algorithm",
    });
    tokens.push({
      name: "alg hs256 (lower case)",
      token: await signedAs({ alg: "hs256", typ: "JWT" }, decoded),
      code: "algorithm",
    });
    tokens.push({
      name: "alg as an array",
      token: await signedAs({ alg: ["HS256"], typ: "JWT" }, decoded),
      code: "algorithm",
    });
    tokens.push({ name: "no alg", token: await signedAs({ typ: "JWT" }, decoded), code: "algorithm" });
    tokens.push({
      name: "header with jku, original signature",
      token: `${b64json({ alg: "HS256", typ: "JWT", jku: "https://evil.attacker.net/jwks" })}.${payload}.${signature}`,
      code: "signature",
    });
    tokens.push({
      name: "header with crit",
      token: await signedAs({ alg: "HS256", typ: "JWT", crit: ["exp"] }, decoded),
      code: "malformed",
    });
    tokens.push({
      name: "typ other than JWT",
      token: await signedAs({ alg: "HS256", typ: "at+jwt" }, decoded),
      code: "malformed",
    });
    // Time.
    for (const [name, age] of [
      ["expired 331 s ago", 300 + 31],
      ["expired an hour ago", 3_600],
      ["a day old", 86_400],
    ] as const) {
      tokens.push({ name, token: await signResult(claims, RESULT_KEY, { now: now - age * 1000 }), code: "expired" });
    }
    tokens.push({
      name: "issued 2 minutes in the future",
      token: await signResult(claims, RESULT_KEY, { now: now + 120_000 }),
      code: "not_yet_valid",
    });
    tokens.push({
      name: "nbf in the future (key holder)",
      token: await signedAs({ alg: "HS256", typ: "JWT" }, { ...decoded, nbf: (decoded.iat as number) + 600 }),
      code: "not_yet_valid",
    });
    tokens.push({
      name: "lifetime over 600 s (key holder)",
      token: await signedAs({ alg: "HS256", typ: "JWT" }, { ...decoded, exp: (decoded.iat as number) + 3_600 }),
      code: "claims",
    });
    tokens.push({
      name: "status other than success or fail (key holder)",
      token: await signedAs({ alg: "HS256", typ: "JWT" }, { ...decoded, status: "ok" }),
      code: "claims",
    });
    tokens.push({
      name: "success with an error (key holder)",
      token: await signedAs({ alg: "HS256", typ: "JWT" }, { ...decoded, status: "success" }),
      code: "claims",
    });
    // Audience and issuer.
    for (const audience of [
      "https://evil.attacker.net",
      "https://app.example.com:8443",
      "http://app.example.com",
      "https://other.example.com",
      "https://app.example.co",
    ]) {
      tokens.push({ name: `verified for audience ${audience}`, token: good, code: "audience", options: { audience } });
    }
    tokens.push({
      name: "issued for the attacker's audience",
      token: await signResult({ ...claims, aud: "https://evil.attacker.net" }, RESULT_KEY, { now }),
      code: "audience",
    });
    tokens.push({
      name: "verified for another issuer",
      token: good,
      code: "issuer",
      options: { audience: APP, issuer: "https://evil.attacker.net" },
    });
    // Malformed.
    for (const [name, token] of [
      ["empty", ""],
      ["two parts", `${header}.${payload}`],
      ["four parts", `${good}.${signature}`],
      ["not a string", undefined],
      ["repeated parameter (an array)", [good, good]],
      ["header not JSON", `${b64json("not json")}.${payload}.${signature}`],
      ["over 8192 characters", `${header}.${payload}${"A".repeat(8200)}.${signature}`],
    ] as const) {
      tokens.push({ name: `malformed: ${name}`, token, code: "malformed" });
    }

    for (const t of tokens) {
      await attack.variant(t.name, async (f) => {
        try {
          const got = await verifyResult(t.token, RESULT_KEY, { audience: APP, now, ...t.options });
          f.fail(`accepted: status=${got.status} sub=${got.sub}`);
        } catch (error) {
          if (!(error instanceof ResultVerificationError)) f.fail(`threw ${String(error)}`);
          else if (error.code !== t.code) f.fail(`refused as ${error.code}, expected ${t.code}`);
          else if (error.message.includes(RESULT_KEY)) f.fail("the refusal quotes the key");
        }
      });
    }
    // The control: the untampered token verifies (else every refusal above would be meaningless).
    const control = await verifyResult(good, RESULT_KEY, { audience: APP, issuer: HOST, now });
    if (control.sub !== claims.sub) throw new Error("the untampered token did not verify");
    attack.expectHeld(80);
  });
});
