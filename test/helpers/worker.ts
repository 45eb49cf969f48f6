import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import type { Clock } from "../../src/clock";
import type { Runtime } from "../../src/edge/context";
import worker, { createWorker, type Env } from "../../src/index";

export type Overrides = Partial<Env>;

/** The test pool's env (real local KV) with some variables replaced. Each call is a fresh isolate-level config. */
export function testEnv(overrides: Overrides = {}): Env {
  return { ...env, ...overrides };
}

/**
 * Sends one request through the worker's real fetch handler and waits for
 * its background work (KV deletes, outcome writes) so the next request sees it.
 */
export function call(input: string | Request, init?: RequestInit, overrides: Overrides | Env = {}): Promise<Response> {
  return callWorker(worker, input, init, overrides);
}

/** `call` through a worker built over an injected clock or fetch (createWorker). */
export async function callWorker(
  handler: Pick<ExportedHandler<Env>, "fetch">,
  input: string | Request,
  init?: RequestInit,
  overrides: Overrides | Env = {},
): Promise<Response> {
  const request = typeof input === "string" ? new Request(input, { redirect: "manual", ...init }) : input;
  const ctx = createExecutionContext();
  if (!handler.fetch) throw new Error("the handler has no fetch");
  const response = await handler.fetch(
    request as Request<unknown, IncomingRequestCfProperties>,
    testEnv(overrides),
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return response;
}

export const BROWSER = { accept: "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8" };
export const API_CLIENT = { accept: "application/json" };

/**
 * A clock whose deadlines pass when the test says so: a timeout test lets the
 * mocked platform receive the call, calls `expire()` from its handler, and
 * the worker's call times out at once, with no waiting. `asked` records the
 * timeouts the worker asked for.
 */
export function manualDeadlines(): Clock & { readonly asked: number[]; expire(): void } {
  const asked: number[] = [];
  const pending: AbortController[] = [];
  return {
    asked,
    now: () => Date.now(),
    timeout(ms) {
      asked.push(ms);
      const controller = new AbortController();
      pending.push(controller);
      return controller.signal;
    },
    expire() {
      for (const controller of pending.splice(0)) {
        controller.abort(new DOMException("The operation was aborted due to timeout", "TimeoutError"));
      }
    },
  };
}

/** A worker over manualDeadlines(): its deadlines, the timeouts it asked for, and the switch that expires them. */
export function timingOutWorker(runtime: Partial<Runtime> = {}) {
  const clock = manualDeadlines();
  return { worker: createWorker({ ...runtime, clock }), asked: clock.asked, expire: () => clock.expire() };
}
