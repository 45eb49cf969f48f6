import { env } from "cloudflare:test";
import { HttpResponse, http } from "msw";
import { describe, expect, it } from "vitest";
import { FAILURES, type FailureCode } from "../../src/failures/codes";
import { checkReturnUrl, type OriginAllowList, parseAllowList } from "../../src/security/return-url";
import { SIGNED_FIELDS, signPayload } from "../../src/security/start-link";
import { Store } from "../../src/storage/store";
import {
  EXACT_ORIGINS,
  HOSTILE_RETURN_URLS,
  HOSTILE_UNDER_WILDCARD,
  type HostileReturnUrl,
  WILDCARD_LABEL,
  WILDCARD_ORIGINS,
} from "../fixtures/hostile-return-urls";
import { ADMIN_TOKEN, LINK_KEY, mockCreate } from "../fixtures/start";
import { API_KEY, peaka, US_API } from "../helpers/peaka";
import { API_CLIENT, BROWSER } from "../helpers/worker";
import { judge } from "./support/outcome";
import { recordWrites, secret, watchSecrets } from "./support/secrets";
import { tallyFor } from "./support/tally";
import { type Send, workerWith } from "./support/worker";

/**
 * Every hostile return URL, at every place one can enter: the allow-list
 * itself; the server API and signed start links, which must refuse it before
 * calling Peaka or writing KV; and each stored record that is re-checked
 * right before the user is redirected (written under an older
 * RETURN_ORIGINS, or by a buggy writer). The worker must answer with the
 * failure (page, JSON, or the partner's ERROR_URL), never redirect to it.
 *
 * Everything runs twice: under the exact RETURN_ORIGINS of the test
 * configuration, and under https://*.example.com (less the tenants that
 * wildcard allows on purpose), where ERROR_URL is itself allowed by the wildcard.
 */

const HOST = "https://connect.example.com";

interface AllowListRun {
  /** Appended to the describe titles: docs/hardening.md reports the two runs side by side. */
  readonly label: string;
  readonly returnOrigins: string;
  readonly list: OriginAllowList;
  readonly corpus: readonly HostileReturnUrl[];
  /** Whether to try every failure rendering (page and ERROR_URL) or only the last. */
  readonly everyVariant: boolean;
}

function allowList(entries: readonly string[]): OriginAllowList {
  const list = parseAllowList(entries);
  if (!list) throw new Error(`invalid test allow-list ${entries.join(",")}`);
  return list;
}

const RUNS: readonly AllowListRun[] = [
  {
    label: "",
    returnOrigins: EXACT_ORIGINS.join(","),
    list: allowList(EXACT_ORIGINS),
    corpus: HOSTILE_RETURN_URLS,
    everyVariant: true,
  },
  {
    label: ` ${WILDCARD_LABEL}`,
    returnOrigins: WILDCARD_ORIGINS.join(","),
    list: allowList(WILDCARD_ORIGINS),
    corpus: HOSTILE_UNDER_WILDCARD,
    everyVariant: false,
  },
];
const ERROR_URL = "https://app.example.com/oauth-error";
const store = new Store(env.CONNECTIONS, 3600);

describe("open-redirect corpus", () => {
  it("has at least 150 distinct inputs across every family", () => {
    const urls = new Set(HOSTILE_RETURN_URLS.map((h) => h.url));
    expect(urls.size).toBe(HOSTILE_RETURN_URLS.length);
    expect(urls.size).toBeGreaterThanOrEqual(150);
    expect(new Set(HOSTILE_RETURN_URLS.map((h) => h.family)).size).toBe(16);
    expect(HOSTILE_UNDER_WILDCARD.length).toBe(HOSTILE_RETURN_URLS.length - 2);
  });
});

for (const run of RUNS) {
  describe(`open-redirect corpus${run.label}`, () => {
    it("is refused by the allow-list itself", ({ task }) => {
      const tally = tallyFor(task);
      const accepted = run.corpus.filter((h) => {
        tally.add("inputsTried");
        return checkReturnUrl(h.url, run.list).ok;
      });
      tally.add("inputsAccepted", accepted.length);
      expect(accepted).toEqual([]);
    });
  });
}

/** One way a stored return URL reaches a redirect. Seeds the record, then makes the request that would use it. */
interface EntryPoint {
  readonly name: string;
  readonly mode: "relay" | "exchange";
  /** Whether the flow hands Peaka a code (and so has a code and state to keep out of logs). */
  readonly usesCode: boolean;
  /** Whether the flow calls Peaka (the slowest kind of request here). */
  readonly callsPeaka: boolean;
  /** How the flow ends when the stored return URL is empty, which it reads as "none stored". */
  readonly withoutReturnUrl?: FailureCode;
  run(send: Send, input: { returnUrl: string; connectionId: string; code: string; state: string }): Promise<Response>;
}

/** Peaka's answer to the exchange of each code, set per case. */
const peakaAnswers = new Map<string, string>();

function answerExchanges(): void {
  peaka.use(
    http.post(`${US_API}/connections/proj_test/oauth2`, async ({ request }) => {
      const { queryParameters } = (await request.json()) as { queryParameters: string };
      const id = peakaAnswers.get(new URLSearchParams(queryParameters).get("code") ?? "");
      return id ? HttpResponse.json({ id }) : HttpResponse.json({ message: "unknown code" }, { status: 400 });
    }),
  );
}

const ENTRY_POINTS: readonly EntryPoint[] = [
  {
    name: "connection record at completion (separator &)",
    mode: "relay",
    usesCode: false,
    callsPeaka: false,
    async run(send, { returnUrl, connectionId }) {
      await store.putConnection(connectionId, { returnUrl, zone: "us", mode: "relay", createdAt: Date.now() });
      const query = new URLSearchParams({ connectionId, status: "success" });
      return send(`${HOST}/oauth2/complete?${query}`, { headers: BROWSER });
    },
  },
  {
    name: "connection record at completion (separator ?)",
    mode: "relay",
    usesCode: false,
    callsPeaka: false,
    async run(send, { returnUrl, connectionId }) {
      await store.putConnection(connectionId, { returnUrl, zone: "us", mode: "relay", createdAt: Date.now() });
      // Peaka's guide spells the completion redirect with a second `?`.
      const url = new URL(`${HOST}/oauth2/complete`);
      url.search = `${new URLSearchParams({ connectionId })}?${new URLSearchParams({ status: "fail" })}`;
      return send(url.href, { headers: BROWSER });
    },
  },
  {
    name: "state record when the user denies consent",
    mode: "exchange",
    usesCode: false,
    callsPeaka: false,
    async run(send, { returnUrl, connectionId, state }) {
      await store.putState(state, { connectionId, returnUrl, zone: "us" });
      const query = new URLSearchParams({ error: "access_denied", state });
      return send(`${HOST}/oauth2/mycallback?${query}`, { headers: BROWSER });
    },
  },
  {
    name: "state record after Peaka confirms the connection",
    mode: "exchange",
    usesCode: true,
    callsPeaka: true,
    withoutReturnUrl: "unknown_connection",
    async run(send, { returnUrl, connectionId, code, state }) {
      await store.putState(state, { connectionId, returnUrl, zone: "us" });
      peakaAnswers.set(code, connectionId);
      const query = new URLSearchParams({ code, state });
      return send(`${HOST}/oauth2/mycallback?${query}`, { headers: BROWSER });
    },
  },
  {
    name: "connection record after Peaka confirms (no state record)",
    mode: "exchange",
    usesCode: true,
    callsPeaka: true,
    withoutReturnUrl: "unknown_connection",
    async run(send, { returnUrl, connectionId, code, state }) {
      await store.putConnection(connectionId, { returnUrl, zone: "us", mode: "exchange", createdAt: Date.now() });
      peakaAnswers.set(code, connectionId);
      const body = new URLSearchParams({ code, state });
      return send(`${HOST}/oauth2/mycallback`, {
        method: "POST",
        headers: { ...BROWSER, "content-type": "application/x-www-form-urlencoded" },
        body: body.toString(),
      });
    },
  },
  {
    name: "state record after Peaka refuses the code",
    mode: "exchange",
    usesCode: true,
    callsPeaka: true,
    withoutReturnUrl: "peaka_rejected",
    async run(send, { returnUrl, connectionId, code, state }) {
      await store.putState(state, { connectionId, returnUrl, zone: "us" });
      const query = new URLSearchParams({ code, state });
      return send(`${HOST}/oauth2/mycallback?${query}`, { headers: BROWSER });
    },
  },
  {
    name: "outcome record replayed for a repeated callback",
    mode: "exchange",
    usesCode: true,
    callsPeaka: false,
    withoutReturnUrl: "unknown_connection",
    async run(send, { returnUrl, connectionId, code, state }) {
      await store.putOutcome(code, { status: "success", connectionId, returnUrl });
      const query = new URLSearchParams({ code, state });
      return send(`${HOST}/oauth2/mycallback?${query}`, { headers: BROWSER });
    },
  },
];

for (const [run, entry] of RUNS.flatMap((r) => ENTRY_POINTS.map((e) => [r, e] as const))) {
  describe(`stored return URL: ${entry.name}${run.label}`, () => {
    // The ERROR_URL rendering does not depend on the flow; it is tried on the flows that need no Peaka round trip.
    const variants = entry.callsPeaka ? [undefined] : [undefined, ERROR_URL];
    for (const errorUrl of run.everyVariant ? variants : variants.slice(-1)) {
      const title = `refuses every hostile URL${errorUrl ? " and sends the user to ERROR_URL" : " with the error page"}`;
      it(title, { timeout: 60_000 }, async ({ task }) => {
        const tally = tallyFor(task);
        const watch = watchSecrets(tally);
        answerExchanges();
        const writes = recordWrites(env.CONNECTIONS);
        const send = workerWith({
          CALLBACK_MODE: entry.mode,
          CONNECTIONS: writes.kv,
          RETURN_ORIGINS: run.returnOrigins,
          ...(errorUrl ? { ERROR_URL: errorUrl } : {}),
        });
        const accepted: string[] = [];
        const wrong: string[] = [];
        const secrets: string[] = [API_KEY];
        const outputs: string[] = [];

        for (const [index, hostile] of run.corpus.entries()) {
          const input = {
            returnUrl: hostile.url,
            connectionId: `hostile-${index}-${crypto.randomUUID().slice(0, 8)}`,
            code: secret("code"),
            state: secret("state"),
          };
          if (entry.usesCode) secrets.push(input.code, input.state);
          tally.add("inputsTried");
          const res = await entry.run(send, input);
          const location = res.headers.get("location");
          if (location !== null && !location.startsWith(`${ERROR_URL}?`)) {
            accepted.push(`${JSON.stringify(hostile.url)} -> ${res.status} ${location ?? ""}`);
          }
          const code = (hostile.url === "" && entry.withoutReturnUrl) || "return_url_not_allowed";
          const { problems, body } = await judge(
            res,
            errorUrl
              ? { kind: "error_url", errorUrl, code, connectionId: input.connectionId }
              : { kind: "page", httpStatus: FAILURES[code].status, code, connectionId: input.connectionId },
          );
          outputs.push(body);
          if (problems.length > 0) wrong.push(`${JSON.stringify(hostile.url)}: ${problems.join("; ")}`);
        }

        tally.add("inputsAccepted", accepted.length);
        expect(accepted).toEqual([]);
        expect(wrong).toEqual([]);
        expect(watch.check(secrets, [...outputs, ...(await writes.values())])).toEqual([]);
      });
    }
  });
}

/** A signed start link carrying exactly `returnUrl`, built from the signing primitive so that any string can be signed. */
async function signedLink(returnUrl: string): Promise<URL> {
  const fields: Record<string, string> = {
    type: "google_analytics",
    name: "Analytics",
    returnUrl,
    exp: String(Math.floor(Date.now() / 1000) + 600),
    nonce: crypto.randomUUID().replaceAll("-", ""),
  };
  const url = new URL(`${HOST}/oauth2/start`);
  for (const name of SIGNED_FIELDS) if (fields[name] !== undefined) url.searchParams.append(name, fields[name]);
  url.searchParams.append("sig", await signPayload(fields, LINK_KEY));
  return url;
}

/** A distinct client address per request, so the start-link rate limit never answers in the allow-list's place. */
let clients = 0;
function clientIp(): string {
  clients++;
  return `10.${(clients >> 16) & 255}.${(clients >> 8) & 255}.${clients & 255}`;
}

/** One way a return URL is written. `send` is called with a fresh API token or client each time (rate limits). */
interface WriteEntryPoint {
  readonly name: string;
  readonly json: boolean;
  /** Failure code for a hostile URL (the pollution cases fail on the signature before the allow-list). */
  readonly code: FailureCode;
  run(returnUrl: string, errorUrl: string | undefined, kv: KVNamespace, returnOrigins: string): Promise<Response>;
}

function apiWorker(
  kv: KVNamespace,
  errorUrl: string | undefined,
  returnOrigins: string,
): { send: Send; token: string } {
  // A token per request: the API's rate limit is per token and would otherwise answer 429 midway.
  const token = `${ADMIN_TOKEN}-${crypto.randomUUID()}`;
  return {
    send: workerWith({
      ADMIN_TOKEN: token,
      LINK_SIGNING_KEY: LINK_KEY,
      CONNECTIONS: kv,
      RETURN_ORIGINS: returnOrigins,
      ...(errorUrl ? { ERROR_URL: errorUrl } : {}),
    }),
    token,
  };
}

const WRITE_ENTRY_POINTS: readonly WriteEntryPoint[] = [
  {
    name: "server API: POST /api/v1/connections",
    json: true,
    code: "return_url_not_allowed",
    run(returnUrl, errorUrl, kv, returnOrigins) {
      const { send, token } = apiWorker(kv, errorUrl, returnOrigins);
      return send(`${HOST}/api/v1/connections`, {
        method: "POST",
        headers: { ...API_CLIENT, authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ type: "google_analytics", name: "Analytics", returnUrl }),
      });
    },
  },
  {
    name: "server API: PUT /api/v1/connections/{id}/return",
    json: true,
    code: "return_url_not_allowed",
    run(returnUrl, errorUrl, kv, returnOrigins) {
      const { send, token } = apiWorker(kv, errorUrl, returnOrigins);
      return send(`${HOST}/api/v1/connections/conn_${crypto.randomUUID().slice(0, 8)}/return`, {
        method: "PUT",
        headers: { ...API_CLIENT, authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ returnUrl }),
      });
    },
  },
  {
    name: "signed start link carrying the URL",
    json: false,
    code: "return_url_not_allowed",
    async run(returnUrl, errorUrl, kv, returnOrigins) {
      const { send } = apiWorker(kv, errorUrl, returnOrigins);
      const url = await signedLink(returnUrl);
      return send(url.href, { headers: { ...BROWSER, "cf-connecting-ip": clientIp() } });
    },
  },
  {
    name: "signed start link with the URL added as a second returnUrl",
    json: false,
    code: "link_invalid",
    async run(returnUrl, errorUrl, kv, returnOrigins) {
      const { send } = apiWorker(kv, errorUrl, returnOrigins);
      const url = await signedLink("https://app.example.com/settings");
      url.searchParams.append("returnUrl", returnUrl);
      return send(url.href, { headers: { ...BROWSER, "cf-connecting-ip": clientIp() } });
    },
  },
  {
    name: "signed start link with the URL inserted before the signed returnUrl",
    json: false,
    code: "link_invalid",
    async run(returnUrl, errorUrl, kv, returnOrigins) {
      const { send } = apiWorker(kv, errorUrl, returnOrigins);
      const signed = await signedLink("https://app.example.com/settings");
      const polluted = new URLSearchParams([["returnUrl", returnUrl], ...signed.searchParams]);
      signed.search = polluted.toString();
      return send(signed.href, { headers: { ...BROWSER, "cf-connecting-ip": clientIp() } });
    },
  },
  {
    name: "signed start link whose returnUrl was swapped after signing",
    json: false,
    code: "link_invalid",
    async run(returnUrl, errorUrl, kv, returnOrigins) {
      const { send } = apiWorker(kv, errorUrl, returnOrigins);
      const url = await signedLink("https://app.example.com/settings");
      url.searchParams.set("returnUrl", returnUrl);
      return send(url.href, { headers: { ...BROWSER, "cf-connecting-ip": clientIp() } });
    },
  },
];

for (const [run, entry] of RUNS.flatMap((r) => WRITE_ENTRY_POINTS.map((e) => [r, e] as const))) {
  describe(`written return URL: ${entry.name}${run.label}`, () => {
    const variants = entry.json ? [undefined] : [undefined, ERROR_URL];
    for (const errorUrl of run.everyVariant ? variants : variants.slice(-1)) {
      const title = `refuses every hostile URL before calling Peaka or writing KV${errorUrl ? " (ERROR_URL set)" : ""}`;
      it(title, { timeout: 60_000 }, async ({ task }) => {
        const tally = tallyFor(task);
        const watch = watchSecrets(tally);
        const created = mockCreate();
        const writes = recordWrites(env.CONNECTIONS);
        const accepted: string[] = [];
        const wrong: string[] = [];
        const outputs: string[] = [];
        for (const hostile of run.corpus) {
          tally.add("inputsTried");
          const before = created.length;
          const res = await entry.run(hostile.url, errorUrl, writes.kv, run.returnOrigins);
          const location = res.headers.get("location");
          if (
            res.status < 300 ||
            created.length > before ||
            (location !== null && !location.startsWith(`${ERROR_URL}?`))
          ) {
            accepted.push(`${JSON.stringify(hostile.url)} -> ${res.status} ${location ?? ""}`);
          }
          const { problems, body } = await judge(
            res,
            errorUrl
              ? { kind: "error_url", errorUrl, code: entry.code }
              : { kind: "page", httpStatus: FAILURES[entry.code].status, code: entry.code, json: entry.json },
          );
          outputs.push(body);
          if (problems.length > 0) wrong.push(`${JSON.stringify(hostile.url)}: ${problems.join("; ")}`);
        }
        tally.add("inputsAccepted", accepted.length);
        expect(accepted).toEqual([]);
        expect(wrong).toEqual([]);
        const stored = await writes.values();
        expect(stored).toEqual([]);
        expect(watch.check([API_KEY, ADMIN_TOKEN, LINK_KEY], outputs)).toEqual([]);
      });
    }
  });
}
