import type { Clock } from "../clock";

/** Where and how to reach a platform's API, whichever it is. */
export interface CallTarget {
  readonly apiUrl: string;
  readonly timeoutMs: number;
  /** Injected, so tests assert the exact request and fire the timeout without waiting for it. */
  readonly fetch: typeof fetch;
  readonly clock: Clock;
}

/** Largest answer read from a platform: its answers are a few KiB at most. */
const MAX_RESPONSE_BYTES = 64 * 1024;

/**
 * One JSON call to a platform with our bearer token and nothing from the
 * inbound request; redirects are not followed (they would carry the token
 * elsewhere). No answer, or one that broke off, rejects with `fail(timedOut,
 * cause)`. A non-2xx answer's body is read only when `readAll`, else
 * cancelled (`body` undefined). `body`: the parsed JSON, or undefined when
 * the answer is not JSON or larger than 64 KiB; never logged or stored.
 */
export async function callJson(
  target: CallTarget,
  token: string,
  method: string,
  path: string,
  body: unknown,
  fail: (timedOut: boolean, cause: unknown) => Error,
  readAll?: boolean,
): Promise<{ status: number; body: unknown }> {
  let response: Response;
  let text: string | undefined;
  try {
    response = await target.fetch(new URL(`${target.apiUrl}/${path}`), {
      method,
      headers: {
        Authorization: `Bearer ${token}`,
        "Content-Type": "application/json",
        Accept: "application/json",
      },
      body: JSON.stringify(body),
      redirect: "manual",
      signal: target.clock.timeout(target.timeoutMs),
    });
    if (readAll || response.ok) text = await response.text();
  } catch (cause) {
    const name = cause instanceof Error ? cause.name : "";
    throw fail(name === "TimeoutError" || name === "AbortError", cause);
  }
  let json: unknown;
  if (text === undefined) await response.body?.cancel();
  else if (text.length <= MAX_RESPONSE_BYTES) {
    try {
      json = JSON.parse(text);
    } catch {}
  }
  return { status: response.status, body: json };
}
