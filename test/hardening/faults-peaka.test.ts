import { env } from "cloudflare:test";
import { delay, HttpResponse, http } from "msw";
import { describe, expect, it } from "vitest";
import { FAILURES } from "../../src/failures/codes";
import { Store } from "../../src/storage/store";
import { ADMIN_TOKEN, LINK_KEY, link, RETURN_URL } from "../fixtures/start";
import { API_KEY, PROJECT_ID, peaka, US_API } from "../helpers/peaka";
import { API_CLIENT, BROWSER, timingOutWorker } from "../helpers/worker";
import { type Expected, judge, judgeLog, STACK_TRACE } from "./support/outcome";
import { secret, watchSecrets } from "./support/secrets";
import { tallyFor } from "./support/tally";
import { type Handler, workerWith } from "./support/worker";

/**
 * Every way a call to Peaka can fail, at every place the worker calls it:
 * the oauth2 exchange (with and without a known connection) and connection
 * creation (signed start link and server API). Each case must end on its
 * defined outcome, with a request log line that names the fault, no stack
 * trace and no secret anywhere.
 */

const HOST = "https://connect.example.com";
const TIMEOUT_MS = 100;
const store = new Store(env.CONNECTIONS, 3600);

type Code = "peaka_unavailable" | "peaka_rejected";

interface Fault {
  readonly name: string;
  /** What Peaka does. */
  readonly answer: () => Response | Promise<Response>;
  /** The failure code the user and the log must see. */
  readonly code: Code;
  /** The Peaka client's error class, which the log line names. */
  readonly cause: string;
  readonly peakaStatus?: number;
  /** The worker to send through; the timeout fault uses one whose deadlines have already passed. */
  readonly handler?: Handler;
}

const status = (code: number, failure: Code): Fault => ({
  name: `HTTP ${code}`,
  answer: () => HttpResponse.json({ message: "refused" }, { status: code }),
  code: failure,
  cause: "PeakaStatusError",
  peakaStatus: code,
});

// Its deadlines pass when Peaka has the call: a timeout without waiting for one.
const timeout = timingOutWorker();

const FAULTS: readonly Fault[] = [
  {
    name: "timeout before answering",
    handler: timeout.worker,
    answer: async () => {
      timeout.expire();
      await delay("infinite");
      return HttpResponse.json({});
    },
    code: "peaka_unavailable",
    cause: "PeakaTimeoutError",
  },
  {
    name: "connection reset",
    answer: () => HttpResponse.error(),
    code: "peaka_unavailable",
    cause: "PeakaNetworkError",
  },
  status(401, "peaka_rejected"),
  status(403, "peaka_rejected"),
  status(404, "peaka_rejected"),
  status(409, "peaka_rejected"),
  status(429, "peaka_unavailable"),
  status(500, "peaka_unavailable"),
  status(502, "peaka_unavailable"),
  status(503, "peaka_unavailable"),
  {
    name: "redirect (not followed: it would carry the key elsewhere)",
    answer: () => new HttpResponse(null, { status: 302, headers: { location: "https://evil.example/steal" } }),
    code: "peaka_rejected",
    cause: "PeakaStatusError",
    peakaStatus: 302,
  },
  {
    name: "HTML error page with status 200",
    answer: () => HttpResponse.html("<html><body><h1>502 Bad Gateway</h1></body></html>"),
    code: "peaka_rejected",
    cause: "PeakaMalformedResponseError",
  },
  {
    name: "HTML error page with status 502",
    answer: () => HttpResponse.html("<html><body><h1>502 Bad Gateway</h1></body></html>", { status: 502 }),
    code: "peaka_unavailable",
    cause: "PeakaStatusError",
    peakaStatus: 502,
  },
  {
    name: "truncated JSON",
    answer: () => new HttpResponse('{"id":"conn_1","name":"exa', { headers: { "content-type": "application/json" } }),
    code: "peaka_rejected",
    cause: "PeakaMalformedResponseError",
  },
  {
    name: "JSON of the wrong shape",
    answer: () => HttpResponse.json({ connection: { id: "conn_1" } }),
    code: "peaka_rejected",
    cause: "PeakaMalformedResponseError",
  },
  {
    name: "JSON array",
    answer: () => HttpResponse.json([{ id: "conn_1" }]),
    code: "peaka_rejected",
    cause: "PeakaMalformedResponseError",
  },
  {
    name: "connection id that is not a safe KV key",
    answer: () => HttpResponse.json({ id: "../conn:other" }),
    code: "peaka_rejected",
    cause: "PeakaMalformedResponseError",
  },
  {
    name: "answer over 64 KiB",
    answer: () => HttpResponse.json({ id: "conn_1", name: "x".repeat(70 * 1024) }),
    code: "peaka_rejected",
    cause: "PeakaMalformedResponseError",
  },
];

interface Site {
  readonly name: string;
  readonly path: string;
  /** Seeds what the site needs, sends the request, and says which outcome is the defined one. */
  run(
    fault: Fault,
    secrets: string[],
  ): Promise<{ res: Response; expected: Expected; route: string; connectionId?: string }>;
}

let clients = 0;
const clientIp = () => `192.0.2.${++clients % 250}`;

const SITES: readonly Site[] = [
  {
    name: "oauth2 exchange, connection known (state record)",
    path: `connections/${PROJECT_ID}/oauth2`,
    async run(fault, secrets) {
      const code = secret("code");
      const state = secret("state");
      const connectionId = `conn_${crypto.randomUUID().slice(0, 12)}`;
      secrets.push(code, state);
      await store.putState(state, { connectionId, returnUrl: RETURN_URL, zone: "us" });
      const send = workerWith({ CALLBACK_MODE: "exchange", PEAKA_TIMEOUT_MS: String(TIMEOUT_MS) }, fault.handler);
      const res = await send(`${HOST}/oauth2/mycallback?${new URLSearchParams({ code, state })}`, { headers: BROWSER });
      const expected: Expected = {
        kind: "return",
        returnUrl: RETURN_URL,
        connectionId,
        status: "fail",
        error: fault.code,
      };
      return { res, expected, route: "exchange", connectionId };
    },
  },
  {
    name: "oauth2 exchange, connection unknown (error page)",
    path: `connections/${PROJECT_ID}/oauth2`,
    async run(fault, secrets) {
      const code = secret("code");
      const state = secret("state");
      secrets.push(code, state);
      const send = workerWith({ CALLBACK_MODE: "exchange", PEAKA_TIMEOUT_MS: String(TIMEOUT_MS) }, fault.handler);
      const res = await send(`${HOST}/oauth2/mycallback?${new URLSearchParams({ code, state })}`, { headers: BROWSER });
      return {
        res,
        expected: { kind: "page", httpStatus: FAILURES[fault.code].status, code: fault.code },
        route: "exchange",
      };
    },
  },
  {
    name: "oauth2 exchange, connection unknown, ERROR_URL set",
    path: `connections/${PROJECT_ID}/oauth2`,
    async run(fault, secrets) {
      const code = secret("code");
      const state = secret("state");
      secrets.push(code, state);
      const errorUrl = "https://app.example.com/oauth-error";
      const send = workerWith(
        { CALLBACK_MODE: "exchange", PEAKA_TIMEOUT_MS: String(TIMEOUT_MS), ERROR_URL: errorUrl },
        fault.handler,
      );
      const res = await send(`${HOST}/oauth2/mycallback?${new URLSearchParams({ code, state })}`, { headers: BROWSER });
      return { res, expected: { kind: "error_url", errorUrl, code: fault.code }, route: "exchange" };
    },
  },
  {
    name: "create connection from a signed start link",
    path: `connections/${PROJECT_ID}`,
    async run(fault) {
      const send = workerWith({ LINK_SIGNING_KEY: LINK_KEY, PEAKA_TIMEOUT_MS: String(TIMEOUT_MS) }, fault.handler);
      const res = await send(await link(), { headers: { ...BROWSER, "cf-connecting-ip": clientIp() } });
      // No connection exists, but the signed return URL is known: the user goes back with the failure.
      return {
        res,
        expected: { kind: "return", returnUrl: RETURN_URL, status: "fail", error: fault.code },
        route: "start",
      };
    },
  },
  {
    name: "create connection through the server API",
    path: `connections/${PROJECT_ID}`,
    async run(fault, secrets) {
      const token = `${ADMIN_TOKEN}-${crypto.randomUUID()}`;
      const clientSecret = secret("client-secret");
      secrets.push(token, clientSecret);
      const send = workerWith({ ADMIN_TOKEN: token, PEAKA_TIMEOUT_MS: String(TIMEOUT_MS) }, fault.handler);
      const res = await send(`${HOST}/api/v1/connections`, {
        method: "POST",
        headers: { ...API_CLIENT, authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({
          type: "google_analytics",
          name: "Analytics",
          returnUrl: RETURN_URL,
          credential: { clientId: "client-123", clientSecret },
        }),
      });
      const expected: Expected = {
        kind: "page",
        httpStatus: FAILURES[fault.code].status,
        code: fault.code,
        json: true,
      };
      return { res, expected, route: "api" };
    },
  },
];

for (const site of SITES) {
  describe(`Peaka faults: ${site.name}`, () => {
    it(`ends each of ${FAULTS.length} faults on its defined outcome, naming it in the log`, {
      timeout: 60_000,
    }, async ({ task }) => {
      const tally = tallyFor(task);
      const watch = watchSecrets(tally);
      const secrets = [API_KEY, LINK_KEY, ADMIN_TOKEN];
      const outputs: string[] = [];
      const undefinedOutcomes: string[] = [];
      for (const fault of FAULTS) {
        let calls = 0;
        peaka.use(
          http.post(`${US_API}/${site.path}`, () => {
            calls++;
            return fault.answer();
          }),
        );
        tally.add("faultsInjected");
        const { res, expected, route, connectionId } = await site.run(fault, secrets);
        const { problems, body } = await judge(res, expected);
        outputs.push(body, res.headers.get("location") ?? "");
        problems.push(
          ...judgeLog(watch.json(), {
            route,
            status: res.status,
            error: fault.code,
            cause: fault.cause,
            // A Peaka failure is an error-level line even when the user goes back with a 303.
            level: "error",
            ...(connectionId ? { connectionId } : {}),
            ...(fault.peakaStatus ? { peakaStatus: fault.peakaStatus } : {}),
          }),
        );
        if (calls !== 1) problems.push(`Peaka called ${calls} times`);
        if (watch.lines.some((line) => STACK_TRACE.test(line))) problems.push("stack trace in a log line");
        if (problems.length > 0) {
          tally.add("undefinedOutcomes");
          undefinedOutcomes.push(`${fault.name}: ${problems.join("; ")}`);
        }
      }
      expect(undefinedOutcomes).toEqual([]);
      expect(watch.check(secrets, outputs)).toEqual([]);
    });
  });
}
