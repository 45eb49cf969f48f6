import autocannon from "autocannon";
import { cpuSeconds } from "./cpu";
import { percentile } from "./stats";

export interface LoadOptions {
  /** Base URL of the server, e.g. http://127.0.0.1:8787 */
  url: string;
  /** Path with query for every request, or a function giving a fresh one per request. */
  path: string | (() => string);
  connections: number;
  durationSeconds: number;
  /** Every response must have this status; anything else is counted as unexpected. */
  expectStatus: number;
  method?: "GET" | "POST";
  headers?: Record<string, string>;
  body?: string;
  /** The server's process: its CPU time over the run gives CPU µs per request. */
  pid?: number;
}

export interface LoadResult {
  requests: number;
  rps: number;
  /** Latency percentiles in ms, from every response's own timing (sub-millisecond resolution). */
  p50: number;
  p99: number;
  errors: number;
  timeouts: number;
  unexpected: number;
  /** Server CPU time (all threads) per response, in µs; undefined without /proc or a pid. */
  cpuUsPerRequest?: number;
}

/**
 * One autocannon run with fixed connections and duration. Latencies are
 * collected per response instead of read from autocannon's histogram, which
 * rounds to whole milliseconds: too coarse for a redirect on loopback.
 */
export async function load(options: LoadOptions): Promise<LoadResult> {
  const { path } = options;
  const latencies: number[] = [];
  let unexpected = 0;
  const cpuBefore = options.pid === undefined ? undefined : cpuSeconds(options.pid);
  const instance = autocannon({
    url: options.url,
    connections: options.connections,
    duration: options.durationSeconds,
    pipelining: 1,
    timeout: 10,
    method: options.method ?? "GET",
    ...(options.headers ? { headers: options.headers } : {}),
    ...(options.body !== undefined ? { body: options.body } : {}),
    requests: [
      typeof path === "string"
        ? { path }
        : { setupRequest: (request: autocannon.Request) => ({ ...request, path: path() }) },
    ],
  });
  instance.on("response", (_client: unknown, status: number, _bytes: number, ms: number) => {
    latencies.push(ms);
    if (status !== options.expectStatus) unexpected++;
  });
  const result = await instance;
  const cpuAfter = options.pid === undefined ? undefined : cpuSeconds(options.pid);
  return {
    ...(cpuBefore !== undefined && cpuAfter !== undefined && latencies.length > 0
      ? { cpuUsPerRequest: ((cpuAfter - cpuBefore) * 1e6) / latencies.length }
      : {}),
    requests: latencies.length,
    rps: latencies.length / (result.duration || options.durationSeconds),
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    errors: result.errors,
    timeouts: result.timeouts,
    unexpected,
  };
}
