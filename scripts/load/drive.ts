import autocannon from "autocannon";
import { percentile } from "../../bench/lib/stats";

/** One request of a scenario and what its answer must be. */
export interface Planned<T> {
  readonly path: string;
  readonly expect: T;
}

/** What a response was, judged against its own request's expectation. */
export type Verdict = "ok" | "wrong_status" | "wrong_redirect";

export interface DriveOptions<T> {
  readonly url: string;
  readonly connections: number;
  /** Hard cap on requests. */
  readonly amount: number;
  /** Hard cap on wall time; the run is stopped when it is reached. */
  readonly maxSeconds: number;
  readonly headers?: Record<string, string>;
  /** The next request to send; called once per request, never more than `amount` + `connections` times. */
  next(): Planned<T>;
  judge(status: number, headers: Record<string, string>, expect: T): Verdict;
}

export interface DriveResult {
  requests: number;
  /** Socket errors and timeouts (autocannon counts a timeout as an error). */
  errors: number;
  wrongStatus: number;
  wrongRedirects: number;
  seconds: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  /** The expectation of every request that was answered (to check records afterwards). */
  answered: unknown[];
}

/**
 * Runs autocannon and checks every single response against the request that
 * produced it. With pipelining 1 a connection has one request in flight, so
 * the context written when the request is built is the one its response
 * sees; a mix-up between requests shows as a wrong redirect, never as a pass.
 */
export async function drive<T>(options: DriveOptions<T>): Promise<DriveResult> {
  const latencies: number[] = [];
  const answered: T[] = [];
  let wrongStatus = 0;
  let wrongRedirects = 0;
  const instance = autocannon({
    url: options.url,
    connections: options.connections,
    amount: options.amount,
    pipelining: 1,
    timeout: 10,
    requests: [
      {
        method: "GET",
        ...(options.headers ? { headers: options.headers } : {}),
        setupRequest(request, context) {
          const planned = options.next();
          context.expect = planned.expect;
          return { ...request, path: planned.path };
        },
        onResponse(status, _body, context, headers) {
          const expect = context.expect as T;
          const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
          const verdict = options.judge(status, lower, expect);
          if (verdict === "wrong_status") wrongStatus++;
          if (verdict === "wrong_redirect") wrongRedirects++;
          answered.push(expect);
        },
      },
    ],
  });
  const started = performance.now();
  let lastResponse = started;
  instance.on("response", (_client: unknown, _status: number, _bytes: number, ms: number) => {
    latencies.push(ms);
    lastResponse = performance.now();
  });
  const timer = setTimeout(() => instance.stop(), options.maxSeconds * 1000);
  const result = await instance;
  clearTimeout(timer);
  // Up to the last response: autocannon only notices the end at its next one-second tick.
  const seconds = (lastResponse - started) / 1000;
  return {
    requests: latencies.length,
    errors: result.errors,
    wrongStatus,
    wrongRedirects,
    seconds,
    rps: latencies.length / seconds,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    answered,
  };
}
