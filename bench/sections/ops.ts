/**
 * KV operations, queue messages and subrequests per flow, counted while the production
 * bundle runs in workerd: KV by the KV service behind the binding, subrequests
 * by the upstream stand-in (the worker's outbound network is limited to
 * loopback, and the stand-in is the only thing listening there for it, so a
 * fetch anywhere else fails the flow instead of going uncounted).
 */
import { Store } from "../../src/storage/store";
import { kvOverHttp } from "../lib/kv-adapters";
import type { RunningServer } from "../lib/node-server";
import {
  ADMIN_TOKEN,
  CALLBACK_PATH,
  COMPLETE_PATH,
  CONNECTION_ID,
  EU_CALLBACK,
  LINK_SIGNING_KEY,
  PEAKA_CALLBACK,
  RELAY_QUERY,
  RETURN_URL,
} from "../lib/scenario";
import type { KvStats, RunningWorker } from "../lib/workerd";

export interface FlowOps {
  flow: string;
  requests: number;
  /** Per request. */
  reads: number;
  writes: number;
  deletes: number;
  /** Queue messages sent (webhooks), per request. */
  queued: number;
  subrequests: number;
  note?: string;
}

export interface OpsWorkers {
  relayOneZone: RunningWorker;
  relayTwoZones: RunningWorker;
  exchange: RunningWorker;
  upstream: RunningServer;
}

async function upstreamRequests(upstream: RunningServer): Promise<number> {
  const response = await fetch(`${upstream.url}/__bench/stats`);
  return ((await response.json()) as { requests: number }).requests;
}

/** KV counts once background work (waitUntil deletes and writes) has stopped changing them. */
async function settledStats(worker: RunningWorker): Promise<KvStats> {
  let last = JSON.stringify(await worker.kvStats());
  for (let waited = 0; waited < 3000; waited += 50) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    const now = JSON.stringify(await worker.kvStats());
    if (now === last && waited >= 100) break;
    last = now;
  }
  return JSON.parse(last) as KvStats;
}

async function expectRedirect(response: Response, status: number, location: string, flow: string): Promise<void> {
  await response.body?.cancel();
  const actual = response.headers.get("location") ?? "";
  if (response.status !== status || !actual.startsWith(location)) {
    throw new Error(`${flow}: expected ${status} to ${location}..., got ${response.status} ${actual}`);
  }
}

async function count(
  flow: string,
  worker: RunningWorker,
  upstream: RunningServer,
  n: number,
  send: (i: number) => Promise<void>,
  note?: string,
): Promise<FlowOps> {
  await worker.kvReset();
  const before = await upstreamRequests(upstream);
  for (let i = 0; i < n; i++) await send(i);
  const kv = await settledStats(worker);
  const subrequests = (await upstreamRequests(upstream)) - before;
  return {
    flow,
    requests: n,
    reads: kv.get / n,
    writes: kv.put / n,
    deletes: kv.delete / n,
    queued: kv.queued / n,
    subrequests: subrequests / n,
    ...(note ? { note } : {}),
  };
}

const get = (url: string) => fetch(url, { redirect: "manual" });

/** A pending connect session, as a start writes it: the flow records below name it, so the flow settles it. */
async function seedSession(store: Store, sessionId: string, connectionId: string): Promise<{ sessionId: string }> {
  const now = Date.now();
  await store.putSession(sessionId, {
    sessionId,
    platform: "peaka",
    type: "google_analytics",
    zone: "us",
    display: "redirect",
    returnUrl: RETURN_URL,
    status: "pending",
    connectionId,
    createdAt: now,
    deadline: now + 3_600_000,
  });
  return { sessionId };
}

/** Why a flow that ends a session costs one read, one write and one queue message more than the flow alone. */
export const SETTLE_NOTE =
  "the connect session's settle after the response: 1 read + 1 write, and its webhook (1 queue message)";

/** `cs_` + 24 base64url characters, distinct per flow and request ("done_1-…" is never "done_10…"). */
const sessionIdFor = (flow: string, i: number) => `cs_${`${flow}_${i}`.padEnd(24, "-")}`;

export async function measureOps(workers: OpsWorkers, n: number): Promise<FlowOps[]> {
  const { relayOneZone, relayTwoZones, exchange, upstream } = workers;
  const results: FlowOps[] = [];

  results.push(
    await count("relay (one zone)", relayOneZone, upstream, n, async (i) => {
      const response = await get(`${relayOneZone.url}${CALLBACK_PATH}?${RELAY_QUERY}&n=${i}`);
      await expectRedirect(response, 307, `${PEAKA_CALLBACK}?`, "relay");
    }),
  );

  // Two relay zones: the state record written at start says which one.
  const twoZoneStore = new Store(kvOverHttp(relayTwoZones), 3600);
  for (let i = 0; i < n; i++) {
    await twoZoneStore.putState(`state-eu-${i}`, { connectionId: `conn_eu_${i}`, returnUrl: RETURN_URL, zone: "eu" });
  }
  results.push(
    await count(
      "relay (two zones)",
      relayTwoZones,
      upstream,
      n,
      async (i) => {
        const response = await get(`${relayTwoZones.url}${CALLBACK_PATH}?code=c${i}&state=state-eu-${i}`);
        await expectRedirect(response, 307, `${EU_CALLBACK}?`, "relay (two zones)");
      },
      "state record names the EU zone",
    ),
  );

  const completionStore = new Store(kvOverHttp(relayOneZone), 3600);
  for (let i = 0; i < n; i++) {
    await completionStore.putConnection(`conn_done_${i}`, {
      returnUrl: RETURN_URL,
      zone: "us",
      mode: "relay",
      createdAt: Date.now(),
      ...(await seedSession(completionStore, sessionIdFor("done", i), `conn_done_${i}`)),
    });
  }
  results.push(
    await count(
      "completion",
      relayOneZone,
      upstream,
      n,
      async (i) => {
        const response = await get(`${relayOneZone.url}${COMPLETE_PATH}?connectionId=conn_done_${i}?status=success`);
        await expectRedirect(response, 303, `${RETURN_URL}?connectionId=conn_done_${i}&status=success`, "completion");
      },
      SETTLE_NOTE,
    ),
  );

  const exchangeStore = new Store(kvOverHttp(exchange), 3600);
  // A session and a state record per exchange, as each start writes them:
  // every exchange settles its own session (and raises its webhook).
  for (let i = 0; i < n; i++) {
    await exchangeStore.putState(`state-exchange-${i}`, {
      connectionId: CONNECTION_ID,
      returnUrl: RETURN_URL,
      zone: "us",
      ...(await seedSession(exchangeStore, sessionIdFor("exchange", i), CONNECTION_ID)),
    });
  }
  results.push(
    await count(
      "exchange",
      exchange,
      upstream,
      n,
      async (i) => {
        const response = await get(`${exchange.url}${CALLBACK_PATH}?code=ops-${i}&state=state-exchange-${i}`);
        await expectRedirect(response, 303, `${RETURN_URL}?connectionId=${CONNECTION_ID}&status=success`, "exchange");
      },
      `writes and deletes run after the response (waitUntil); ${SETTLE_NOTE}`,
    ),
  );
  return results;
}

/**
 * Start, both ways in: the server API and a signed link. Each call creates a
 * connection at the upstream stand-in, whose consent URL carries a `state`.
 * A deployment without the route answers 404 and the flow is reported as not
 * measurable instead of failing the run.
 */
export async function measureStartOps(worker: RunningWorker, upstream: RunningServer, n: number): Promise<FlowOps[]> {
  const results: FlowOps[] = [];
  const probe = await fetch(`${worker.url}/api/v1/connections`, { method: "POST", headers: apiHeaders(), body: "{}" });
  await probe.body?.cancel();
  if (probe.status === 404) {
    results.push(notMeasurable("start (server API)", "POST /api/v1/connections answers 404 in this build"));
  } else {
    results.push(
      await count("start (server API)", worker, upstream, n, async (i) => {
        const response = await fetch(`${worker.url}/api/v1/connections`, {
          method: "POST",
          headers: apiHeaders(),
          body: JSON.stringify({ type: "google_analytics", name: `Bench ${i}`, returnUrl: RETURN_URL }),
        });
        const body = (await response.json()) as { consentUrl?: string };
        if (response.status !== 201 || !body.consentUrl) {
          throw new Error(`start (server API): expected 201 with a consentUrl, got ${response.status}`);
        }
      }),
    );
  }

  let createStartLink: typeof import("../../src/security/start-link.js").createStartLink | undefined;
  try {
    ({ createStartLink } = await import("../../src/security/start-link.js"));
  } catch {
    createStartLink = undefined;
  }
  const sign = createStartLink;
  if (!sign) {
    results.push(notMeasurable("start (signed link)", "src/security/start-link.js is not in this build"));
    return results;
  }
  const link = (i: number) =>
    sign(
      { baseUrl: worker.url, type: "google_analytics", name: `Bench link ${i}`, returnUrl: RETURN_URL },
      LINK_SIGNING_KEY,
    );
  const first = await get(await link(-1));
  await first.body?.cancel();
  if (first.status === 404) {
    results.push(notMeasurable("start (signed link)", "GET /oauth2/start answers 404 in this build"));
    return results;
  }
  results.push(
    await count(
      "start (signed link)",
      worker,
      upstream,
      n,
      async (i) => {
        const response = await get(await link(i));
        await expectRedirect(response, 303, "https://accounts.example.com/", "start (signed link)");
      },
      "the link's nonce is read, then written (single use), before the two records",
    ),
  );
  return results;
}

function apiHeaders(): Record<string, string> {
  return { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json", accept: "application/json" };
}

function notMeasurable(flow: string, note: string): FlowOps {
  return {
    flow,
    requests: 0,
    reads: Number.NaN,
    writes: Number.NaN,
    deletes: Number.NaN,
    queued: Number.NaN,
    subrequests: Number.NaN,
    note,
  };
}
