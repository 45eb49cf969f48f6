import { env } from "cloudflare:test";
import { HttpResponse, http } from "msw";
import { describe, expect, it } from "vitest";
import { Store } from "../../src/storage/store";
import { ADMIN_TOKEN, consentUrl, LINK_KEY, link, RETURN_URL } from "../fixtures/start";
import { API_KEY, PROJECT_ID, peaka, US_API } from "../helpers/peaka";
import { API_CLIENT, BROWSER } from "../helpers/worker";
import { type Expected, judge, judgeLog, type LogExpectation, STACK_TRACE } from "./support/outcome";
import { secret, watchSecrets } from "./support/secrets";
import { tallyFor } from "./support/tally";
import { InjectedKvFault, type KvOp, workerWith, wrapKv } from "./support/worker";

/**
 * Every KV operation the worker performs, made to fail (the real binding,
 * wrapped so that chosen operations reject the way a KV outage does), plus
 * a corrupted value. Each case must end on its defined outcome: the user
 * still gets where they were going when the failed operation was only
 * bookkeeping, else the failure is named with the connection id (when
 * known) and the request id, and the log line says what went wrong.
 */

const HOST = "https://connect.example.com";
const OTHER_RETURN = "https://app.example.com/other?from=record";
const ERROR_URL = "https://app.example.com/oauth-error";
const store = new Store(env.CONNECTIONS, 3600);

interface Fault {
  readonly op: KvOp;
  /** Only keys with this prefix fail (conn:, state:, code:, nonce:); all when absent. */
  readonly prefix?: string;
}

interface Outcome {
  readonly res: Response;
  readonly expected: Expected;
  readonly log: LogExpectation;
  /** A background task whose failure must be reported by its own log line. */
  readonly backgroundTask?: string;
}

interface KvCase {
  readonly name: string;
  readonly fault: Fault;
  run(kv: KVNamespace, secrets: string[]): Promise<Outcome>;
}

const newId = () => `conn_${crypto.randomUUID().slice(0, 12)}`;
let clients = 0;
const clientIp = () => `198.51.100.${++clients % 250}`;

/** Peaka confirms every exchange with this connection id. */
function peakaConfirms(connectionId: string): void {
  peaka.use(http.post(`${US_API}/connections/${PROJECT_ID}/oauth2`, () => HttpResponse.json({ id: connectionId })));
}

/** Peaka creates a connection whose consent URL carries a state. */
function peakaCreates(connectionId: string): void {
  peaka.use(
    http.post(`${US_API}/connections/${PROJECT_ID}`, () =>
      HttpResponse.json({ id: connectionId, url: consentUrl(`st_${connectionId}`) }),
    ),
  );
}

async function exchangeCallback(kv: KVNamespace, secrets: string[], extra: Record<string, string> = {}) {
  const code = secret("code");
  const state = secret("state");
  secrets.push(code, state);
  const send = workerWith({ CALLBACK_MODE: "exchange", CONNECTIONS: kv, ...extra });
  return { code, state, send };
}

/**
 * A successful exchange whose after-response bookkeeping (saving the outcome,
 * deleting the used record) fails: the user still goes back with success,
 * and the failed task is reported by its own log line.
 */
function bookkeepingFails(name: string, fault: Fault, backgroundTask: string): KvCase {
  return {
    name,
    fault,
    async run(kv, secrets) {
      const id = newId();
      const { code, state, send } = await exchangeCallback(kv, secrets);
      await store.putState(state, { connectionId: id, returnUrl: RETURN_URL, zone: "us" });
      peakaConfirms(id);
      const res = await send(`${HOST}/oauth2/mycallback?${new URLSearchParams({ code, state })}`, { headers: BROWSER });
      return {
        res,
        expected: { kind: "return", returnUrl: RETURN_URL, connectionId: id, status: "success" },
        log: { route: "exchange", status: 303, connectionId: id },
        backgroundTask,
      };
    },
  };
}

const CASES: readonly KvCase[] = [
  {
    name: "completion: reading the connection record fails",
    fault: { op: "get" },
    async run(kv) {
      const id = newId();
      await store.putConnection(id, { returnUrl: RETURN_URL, zone: "us", mode: "relay", createdAt: Date.now() });
      const res = await workerWith({ CONNECTIONS: kv })(`${HOST}/oauth2/complete?connectionId=${id}&status=success`, {
        headers: BROWSER,
      });
      return {
        res,
        expected: { kind: "page", httpStatus: 503, code: "storage_unavailable", connectionId: id },
        log: { route: "complete", status: 503, error: "storage_unavailable", cause: "StorageError", connectionId: id },
      };
    },
  },
  {
    name: "completion: reading the connection record fails, ERROR_URL set",
    fault: { op: "get" },
    async run(kv) {
      const id = newId();
      const res = await workerWith({ CONNECTIONS: kv, ERROR_URL })(
        `${HOST}/oauth2/complete?connectionId=${id}&status=success`,
        { headers: BROWSER },
      );
      return {
        res,
        expected: { kind: "error_url", errorUrl: ERROR_URL, code: "storage_unavailable", connectionId: id },
        log: { route: "complete", status: 303, error: "storage_unavailable", cause: "StorageError", connectionId: id },
      };
    },
  },
  {
    name: "completion: deleting the used connection record fails",
    fault: { op: "delete" },
    async run(kv) {
      const id = newId();
      await store.putConnection(id, { returnUrl: RETURN_URL, zone: "us", mode: "relay", createdAt: Date.now() });
      const res = await workerWith({ CONNECTIONS: kv })(`${HOST}/oauth2/complete?connectionId=${id}&status=success`, {
        headers: BROWSER,
      });
      return {
        res,
        expected: { kind: "return", returnUrl: RETURN_URL, connectionId: id, status: "success" },
        log: { route: "complete", status: 303, connectionId: id },
        backgroundTask: "delete_connection",
      };
    },
  },
  {
    name: "exchange: reading the replay record fails",
    fault: { op: "get", prefix: "code:" },
    async run(kv, secrets) {
      const id = newId();
      const { code, state, send } = await exchangeCallback(kv, secrets);
      await store.putState(state, { connectionId: id, returnUrl: RETURN_URL, zone: "us" });
      peakaConfirms(id);
      const res = await send(`${HOST}/oauth2/mycallback?${new URLSearchParams({ code, state })}`, { headers: BROWSER });
      return {
        res,
        expected: { kind: "return", returnUrl: RETURN_URL, connectionId: id, status: "success" },
        log: { route: "exchange", status: 303, cause: "StorageError", connectionId: id },
      };
    },
  },
  {
    name: "exchange: reading the state record fails (the connection record leads back)",
    fault: { op: "get", prefix: "state:" },
    async run(kv, secrets) {
      const id = newId();
      const { code, state, send } = await exchangeCallback(kv, secrets);
      await store.putState(state, { connectionId: id, returnUrl: RETURN_URL, zone: "us" });
      await store.putConnection(id, { returnUrl: OTHER_RETURN, zone: "us", mode: "exchange", createdAt: Date.now() });
      peakaConfirms(id);
      const res = await send(`${HOST}/oauth2/mycallback?${new URLSearchParams({ code, state })}`, { headers: BROWSER });
      return {
        res,
        expected: { kind: "return", returnUrl: OTHER_RETURN, connectionId: id, status: "success" },
        log: { route: "exchange", status: 303, cause: "StorageError", connectionId: id },
      };
    },
  },
  {
    name: "exchange: every read fails after Peaka confirmed",
    fault: { op: "get" },
    async run(kv, secrets) {
      const id = newId();
      const { code, state, send } = await exchangeCallback(kv, secrets);
      peakaConfirms(id);
      const res = await send(`${HOST}/oauth2/mycallback?${new URLSearchParams({ code, state })}`, { headers: BROWSER });
      return {
        res,
        expected: { kind: "page", httpStatus: 503, code: "storage_unavailable", connectionId: id },
        log: { route: "exchange", status: 503, error: "storage_unavailable", cause: "StorageError", connectionId: id },
      };
    },
  },
  {
    name: "exchange: every read fails after Peaka confirmed, API client",
    fault: { op: "get" },
    async run(kv, secrets) {
      const id = newId();
      const { code, state, send } = await exchangeCallback(kv, secrets);
      peakaConfirms(id);
      const res = await send(`${HOST}/oauth2/mycallback?${new URLSearchParams({ code, state })}`, {
        headers: API_CLIENT,
      });
      return {
        res,
        expected: { kind: "page", httpStatus: 503, code: "storage_unavailable", connectionId: id, json: true },
        log: { route: "exchange", status: 503, error: "storage_unavailable", cause: "StorageError", connectionId: id },
      };
    },
  },
  bookkeepingFails("exchange: saving the outcome for replays fails", { op: "put", prefix: "code:" }, "save_outcome"),
  bookkeepingFails("exchange: deleting the used connection record fails", { op: "delete" }, "delete_connection"),
  {
    name: "exchange: reading the state record of a denial fails",
    fault: { op: "get", prefix: "state:" },
    async run(kv, secrets) {
      const { state, send } = await exchangeCallback(kv, secrets);
      await store.putState(state, { connectionId: newId(), returnUrl: RETURN_URL, zone: "us" });
      const res = await send(`${HOST}/oauth2/mycallback?${new URLSearchParams({ error: "access_denied", state })}`, {
        headers: BROWSER,
      });
      return {
        res,
        expected: { kind: "page", httpStatus: 400, code: "provider_denied" },
        log: { route: "exchange", status: 400, error: "provider_denied", cause: "StorageError" },
      };
    },
  },
  {
    name: "exchange: reading the state record of a denial fails, ERROR_URL set",
    fault: { op: "get", prefix: "state:" },
    async run(kv, secrets) {
      const { state, send } = await exchangeCallback(kv, secrets, { ERROR_URL });
      const res = await send(`${HOST}/oauth2/mycallback?${new URLSearchParams({ error: "access_denied", state })}`, {
        headers: BROWSER,
      });
      return {
        res,
        expected: { kind: "error_url", errorUrl: ERROR_URL, code: "provider_denied" },
        log: { route: "exchange", status: 303, error: "provider_denied", cause: "StorageError" },
      };
    },
  },
  {
    name: "relay with two zones: reading the state record fails (host zone used)",
    fault: { op: "get", prefix: "state:" },
    async run(kv, secrets) {
      const code = secret("code");
      const state = secret("state");
      secrets.push(code, state);
      await store.putState(state, { connectionId: newId(), returnUrl: RETURN_URL, zone: "eu" });
      const send = workerWith({ CONNECTIONS: kv, PEAKA_EU_CALLBACK_URL: "https://eu.peaka.studio/oauth2/callback" });
      const query = new URLSearchParams({ code, state }).toString();
      const res = await send(`${HOST}/oauth2/mycallback?${query}`, { headers: BROWSER });
      return {
        res,
        // The record is unreadable, so the host's zone (the default, us) is the defined fallback.
        expected: { kind: "relay", location: `https://peaka.studio/oauth2/callback?${query}` },
        log: { route: "relay", status: 307, cause: "StorageError" },
      };
    },
  },
  {
    name: "start link: reading the used-link record fails",
    fault: { op: "get", prefix: "nonce:" },
    async run(kv) {
      const send = workerWith({ LINK_SIGNING_KEY: LINK_KEY, CONNECTIONS: kv });
      const res = await send(await link(), { headers: { ...BROWSER, "cf-connecting-ip": clientIp() } });
      return {
        res,
        expected: { kind: "page", httpStatus: 503, code: "storage_unavailable" },
        log: { route: "start", status: 503, error: "storage_unavailable", cause: "StorageError" },
      };
    },
  },
  {
    name: "start link: spending the link fails",
    fault: { op: "put", prefix: "nonce:" },
    async run(kv) {
      const send = workerWith({ LINK_SIGNING_KEY: LINK_KEY, CONNECTIONS: kv });
      const res = await send(await link(), { headers: { ...BROWSER, "cf-connecting-ip": clientIp() } });
      return {
        res,
        expected: { kind: "page", httpStatus: 503, code: "storage_unavailable" },
        log: { route: "start", status: 503, error: "storage_unavailable", cause: "StorageError" },
      };
    },
  },
  ...(["conn:", "state:"] as const).map(
    (prefix): KvCase => ({
      name: `start link: writing the ${prefix === "conn:" ? "connection" : "state"} record fails after Peaka created it`,
      fault: { op: "put", prefix },
      async run(kv) {
        const id = newId();
        peakaCreates(id);
        const send = workerWith({ LINK_SIGNING_KEY: LINK_KEY, CONNECTIONS: kv });
        const res = await send(await link(), { headers: { ...BROWSER, "cf-connecting-ip": clientIp() } });
        // The connection exists and the signed return URL is known: back to the application with the failure.
        return {
          res,
          expected: {
            kind: "return",
            returnUrl: RETURN_URL,
            connectionId: id,
            status: "fail",
            error: "storage_unavailable",
          },
          log: { route: "start", status: 303, error: "storage_unavailable", cause: "StorageError", connectionId: id },
        };
      },
    }),
  ),
  {
    name: "server API create: writing the records fails after Peaka created the connection",
    fault: { op: "put" },
    async run(kv, secrets) {
      const id = newId();
      peakaCreates(id);
      const token = `${ADMIN_TOKEN}-${crypto.randomUUID()}`;
      secrets.push(token);
      const res = await workerWith({ ADMIN_TOKEN: token, CONNECTIONS: kv })(`${HOST}/api/v1/connections`, {
        method: "POST",
        headers: { ...API_CLIENT, authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ type: "google_analytics", name: "Analytics", returnUrl: RETURN_URL }),
      });
      return {
        res,
        expected: { kind: "page", httpStatus: 503, code: "storage_unavailable", connectionId: id, json: true },
        log: { route: "api", status: 503, error: "storage_unavailable", cause: "StorageError", connectionId: id },
      };
    },
  },
  {
    name: "server API register-return: writing the record fails",
    fault: { op: "put" },
    async run(kv, secrets) {
      const id = newId();
      const token = `${ADMIN_TOKEN}-${crypto.randomUUID()}`;
      secrets.push(token);
      const res = await workerWith({ ADMIN_TOKEN: token, CONNECTIONS: kv })(`${HOST}/api/v1/connections/${id}/return`, {
        method: "PUT",
        headers: { ...API_CLIENT, authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ returnUrl: RETURN_URL }),
      });
      return {
        res,
        expected: { kind: "page", httpStatus: 503, code: "storage_unavailable", connectionId: id, json: true },
        log: { route: "api", status: 503, error: "storage_unavailable", cause: "StorageError", connectionId: id },
      };
    },
  },
];

describe("KV faults", () => {
  it(`ends each of ${CASES.length} injected KV failures on its defined outcome`, { timeout: 60_000 }, async ({
    task,
  }) => {
    const tally = tallyFor(task);
    const watch = watchSecrets(tally);
    const secrets = [API_KEY, LINK_KEY, ADMIN_TOKEN];
    const outputs: string[] = [];
    const undefinedOutcomes: string[] = [];
    for (const c of CASES) {
      let injected = 0;
      const kv = wrapKv(env.CONNECTIONS, (op, key) => {
        if (op === c.fault.op && (c.fault.prefix === undefined || key?.startsWith(c.fault.prefix))) {
          injected++;
          throw new InjectedKvFault(op);
        }
      });
      tally.add("faultsInjected");
      const linesBefore = watch.lines.length;
      const { res, expected, log, backgroundTask } = await c.run(kv, secrets);
      const { problems, body } = await judge(res, expected);
      // A relay's Location carries the code to Peaka by design; every other Location is searched.
      outputs.push(body, expected.kind === "relay" ? "" : (res.headers.get("location") ?? ""));
      // Only this case's lines: an earlier case's background failure must not count for this one.
      const fresh = watch.lines.slice(linesBefore);
      const lines = fresh
        .filter((line) => line.startsWith("{"))
        .map((line) => JSON.parse(line) as Record<string, unknown>);
      // Every injected KV failure is logged at error level, even where the user was sent on (303, 307):
      // on the request line, or on the background line when it failed after the response.
      problems.push(...judgeLog(lines, backgroundTask ? log : { ...log, level: "error" }));
      if (injected === 0) problems.push("the fault never fired");
      if (backgroundTask) {
        const reported = lines.some(
          (line) =>
            line.msg === "background_task_failed" &&
            line.task === backgroundTask &&
            line.cause === "StorageError" &&
            line.level === "error",
        );
        if (!reported) problems.push(`no background_task_failed line for ${backgroundTask}`);
      }
      if (fresh.some((line) => STACK_TRACE.test(line))) problems.push("stack trace in a log line");
      if (problems.length > 0) {
        tally.add("undefinedOutcomes");
        undefinedOutcomes.push(`${c.name}: ${problems.join("; ")}`);
      }
    }
    expect(undefinedOutcomes).toEqual([]);
    expect(watch.check(secrets, outputs)).toEqual([]);
  });

  it("reads a corrupted record as missing: completion names the connection", async ({ task }) => {
    const tally = tallyFor(task);
    const watch = watchSecrets(tally);
    const id = newId();
    await env.CONNECTIONS.put(`conn:${id}`, '{"v":1,"returnUrl":"https://evil.com","zone":"us"'); // truncated
    tally.add("faultsInjected");
    const res = await workerWith()(`${HOST}/oauth2/complete?connectionId=${id}&status=success`, { headers: BROWSER });
    const { problems } = await judge(res, {
      kind: "page",
      httpStatus: 404,
      code: "unknown_connection",
      connectionId: id,
    });
    problems.push(
      ...judgeLog(watch.json(), { route: "complete", status: 404, error: "unknown_connection", connectionId: id }),
    );
    if (problems.length > 0) tally.add("undefinedOutcomes");
    expect(problems).toEqual([]);
    expect(watch.check([API_KEY])).toEqual([]);
  });
});
