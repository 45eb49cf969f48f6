/**
 * ns per request of the bundle's own `fetch`, called in-process with mitata,
 * against the bare relay handler. This runs in Node, not workerd (workerd
 * freezes clocks during execution, so it cannot time itself): same V8 family,
 * different runtime around it. KV is a Map here, so completion's figure is
 * the worker's CPU work without any storage latency. The worker's one JSON
 * log line per request is still built; only the final console.log is muted,
 * so the terminal's speed is not what gets measured.
 */
import { join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { measure } from "mitata";
import { Store } from "../../src/storage/store";
import { memoryKv } from "../lib/kv-adapters";
import { CALLBACK_PATH, COMPLETE_PATH, PEAKA_CALLBACK, RELAY_QUERY, RETURN_URL, relayVars } from "../lib/scenario";
import { median } from "../lib/stats";
import { honoFloor } from "../servers/hono-floor";

type FetchHandler = {
  fetch(request: Request, env: Record<string, unknown>, ctx: ExecutionContext): Response | Promise<Response>;
};

export interface InProcessResult {
  name: string;
  /** Mean and median ns per call: each the median over interleaved rounds. */
  avgNs: number;
  p50Ns: number;
  samples: number;
}

const BARE_WORKER = resolve(fileURLToPath(import.meta.url), "../../servers/bare-worker/index.js");
const HOST = "https://connect.example.com";

const ctx = {
  waitUntil(promise: Promise<unknown>) {
    void promise;
  },
  passThroughOnException() {},
  props: {},
} as unknown as ExecutionContext;

async function check(
  handler: FetchHandler,
  env: Record<string, unknown>,
  url: string,
  status: number,
  location: string,
) {
  const response = await handler.fetch(new Request(url, { redirect: "manual" }), env, ctx);
  if (response.status !== status || !(response.headers.get("location") ?? "").startsWith(location)) {
    throw new Error(`in-process ${url}: got ${response.status} ${response.headers.get("location")}`);
  }
}

export async function measureInProcess(bundleDir: string, smoke: boolean): Promise<InProcessResult[]> {
  const worker = (await import(pathToFileURL(join(resolve(bundleDir), "index.js")).href)).default as FetchHandler;
  const bare = (await import(pathToFileURL(BARE_WORKER).href)).default as FetchHandler;
  const { kv, map } = memoryKv();
  const env = { ...relayVars({ PUBLIC_ORIGINS: HOST }), CONNECTIONS: kv };
  const bareEnv = { CALLBACK_URL: PEAKA_CALLBACK };
  const floor = honoFloor(CALLBACK_PATH, PEAKA_CALLBACK);

  const store = new Store(kv, 3600);
  await store.putConnection("conn_inprocess", { returnUrl: RETURN_URL, zone: "us", mode: "relay", createdAt: 0 });
  const [recordKey, recordValue] = [...map][0] as [string, string];

  const relayUrl = `${HOST}${CALLBACK_PATH}?${RELAY_QUERY}`;
  const completeUrl = `${HOST}${COMPLETE_PATH}?connectionId=conn_inprocess&status=success`;
  const cases: [string, () => Promise<Response> | Response][] = [
    ["bare relay handler", () => bare.fetch(new Request(relayUrl), bareEnv, ctx)],
    ["hono/tiny, one route", () => floor.fetch(new Request(relayUrl))],
    ["worker relay", () => worker.fetch(new Request(relayUrl), env, ctx)],
    [
      "worker completion",
      () => {
        // Completion deletes its record after answering; put it back so every call takes the same path.
        map.set(recordKey, recordValue);
        return worker.fetch(new Request(completeUrl), env, ctx);
      },
    ],
  ];

  const log = console.log;
  const results: InProcessResult[] = [];
  try {
    console.log = () => {};
    await check(bare, bareEnv, relayUrl, 307, PEAKA_CALLBACK);
    await check(worker, env, relayUrl, 307, `${PEAKA_CALLBACK}?${RELAY_QUERY}`);
    map.set(recordKey, recordValue);
    await check(worker, env, completeUrl, 303, `${RETURN_URL}?connectionId=conn_inprocess`);
    // Interleaved rounds, as for the load runs: a burst of other work on the
    // machine lands on every handler instead of on whichever ran then.
    const rounds = smoke ? 1 : 5;
    const perRound = new Map<string, { avg: number[]; p50: number[]; ticks: number }>();
    for (let round = 0; round < rounds; round++) {
      for (const [name, fn] of cases) {
        const stats = await measure(fn, smoke ? { min_cpu_time: 20e6, max_samples: 200 } : { min_cpu_time: 300e6 });
        const entry = perRound.get(name) ?? { avg: [], p50: [], ticks: 0 };
        entry.avg.push(stats.avg);
        entry.p50.push(stats.p50);
        entry.ticks += stats.ticks;
        perRound.set(name, entry);
      }
    }
    for (const [name, entry] of perRound) {
      results.push({ name, avgNs: median(entry.avg), p50Ns: median(entry.p50), samples: entry.ticks });
    }
  } finally {
    console.log = log;
  }
  return results;
}
