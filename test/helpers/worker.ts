import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import worker, { type Env } from "../../src/index";

export type Overrides = Partial<Env>;

/** The test pool's env (real local KV) with some variables replaced. Each call is a fresh isolate-level config. */
export function testEnv(overrides: Overrides = {}): Env {
  return { ...env, ...overrides };
}

/**
 * Sends one request through the worker's real fetch handler and waits for
 * its background work (KV deletes, outcome writes) so the next request sees it.
 */
export async function call(
  input: string | Request,
  init?: RequestInit,
  overrides: Overrides | Env = {},
): Promise<Response> {
  const request = typeof input === "string" ? new Request(input, { redirect: "manual", ...init }) : input;
  const ctx = createExecutionContext();
  const response = await worker.fetch(
    request as Request<unknown, IncomingRequestCfProperties>,
    testEnv(overrides),
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return response;
}

export const BROWSER = { accept: "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8" };
export const API_CLIENT = { accept: "application/json" };
