import * as z from "zod/mini";
import type { Clock } from "../../clock";
import { RiveryError, type RiveryStep } from "./errors";

/** Where and how to reach one zone's Rivery API. */
export interface RiveryTarget {
  readonly apiUrl: string;
  readonly token: string;
  readonly timeoutMs: number;
  /** Injected, so tests assert the exact request and fire the timeout without waiting for it. */
  readonly fetch: typeof fetch;
  readonly clock: Clock;
}

/** Largest answer read from Rivery: a credentials answer is a few KiB at most. */
const MAX_RESPONSE_BYTES = 64 * 1024;

export const RiveryPull = z.object({
  pull_id: z.string().check(z.regex(/^[\x21-\x7e]{1,4096}$/)),
  auth_uri: z.string().check(z.maxLength(8192)),
});
export type RiveryPull = z.infer<typeof RiveryPull>;

/** The created connection; `_id` becomes the session's connectionId (a KV value), so it is constrained. */
export const RiveryConnection = z.object({
  _id: z.string().check(z.regex(/^[A-Za-z0-9_-]{1,128}$/)),
  cross_id: z.optional(z.string()),
  connection_name: z.optional(z.string()),
});
export type RiveryConnection = z.infer<typeof RiveryConnection>;

/** A raw answer: the credentials endpoint's meaning is decided by credentialsReady (./ready.ts). */
export interface RiveryAnswer {
  readonly status: number;
  /** The parsed JSON body, or undefined when it is not JSON. Never logged or stored. */
  readonly body: unknown;
}

/**
 * One call with our bearer token and nothing from the inbound request;
 * redirects are not followed (they would carry the token elsewhere).
 */
async function send(target: RiveryTarget, step: RiveryStep, method: string, path: string, body: unknown) {
  const failed = (cause: unknown) =>
    new RiveryError(
      step,
      cause instanceof Error && (cause.name === "TimeoutError" || cause.name === "AbortError") ? "timeout" : "network",
      undefined,
      cause,
    );
  let response: Response;
  try {
    response = await target.fetch(new URL(`${target.apiUrl}/${path}`), {
      method,
      headers: {
        Authorization: `Bearer ${target.token}`,
        "Content-Type": "application/json",
        Accept: "application/json",
      },
      body: JSON.stringify(body),
      redirect: "manual",
      signal: target.clock.timeout(target.timeoutMs),
    });
  } catch (cause) {
    throw failed(cause);
  }
  let text: string;
  try {
    text = await response.text();
  } catch (cause) {
    throw failed(cause);
  }
  let json: unknown;
  try {
    json = text.length > MAX_RESPONSE_BYTES ? undefined : JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, body: json };
}

async function call<T>(
  target: RiveryTarget,
  step: RiveryStep,
  method: string,
  path: string,
  body: unknown,
  schema: z.ZodMiniType<T>,
): Promise<T> {
  const answer = await send(target, step, method, path, body);
  if (answer.status === 429 && step === "create") throw new RiveryError(step, "invalid_param", 429);
  if (answer.status < 200 || answer.status > 299) throw new RiveryError(step, "status", answer.status);
  const parsed = schema.safeParse(answer.body);
  if (!parsed.success) throw new RiveryError(step, "malformed");
  return parsed.data;
}

/** `POST {api}/oauth2`: a new credentials request (a "pull") for a datasource, valid for validity_duration seconds. */
export function createPull(
  target: RiveryTarget,
  body: { datasource_id: string; validity_duration: number },
): Promise<RiveryPull> {
  return call(target, "create", "POST", "oauth2", body, RiveryPull);
}

/**
 * `POST {api}/oauth2/credentials`: the pull's credentials, once the user has
 * authorised. Any answer is returned as is, except 401/403: Rivery refusing
 * our token will not change while the user waits.
 */
export async function fetchCredentials(
  target: RiveryTarget,
  body: { pull_id: string; auth_uri: string },
): Promise<RiveryAnswer> {
  const answer = await send(target, "credentials", "POST", "oauth2/credentials", body);
  if (answer.status === 401 || answer.status === 403) throw new RiveryError("credentials", "status", answer.status);
  return answer;
}

/** `PUT {api}/connections`: creates the connection; `credentials` is the credentials answer, passed on untouched. */
export function createConnection(
  target: RiveryTarget,
  body: { connection_type: string; connection_name: string; credentials: Readonly<Record<string, unknown>> },
): Promise<RiveryConnection> {
  return call(target, "connection", "PUT", "connections", body, RiveryConnection);
}
