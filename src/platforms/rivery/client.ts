import { type CallTarget, callJson } from "../../core/call";
import { RiveryError, type RiveryStep } from "./errors";

/** Where and how to reach one zone's Rivery API. */
export interface RiveryTarget extends CallTarget {
  readonly token: string;
}

/** A raw answer: the credentials endpoint's meaning is decided by credentialsReady (./ready.ts). */
export interface RiveryAnswer {
  readonly status: number;
  /** The parsed JSON body, or undefined when it is not JSON. Never logged or stored. */
  readonly body: unknown;
}

type Json = Record<string, unknown> | undefined;

/**
 * One call (core/call.ts). Throws RiveryError for no answer; `ok` also
 * requires a 2xx (429 on the create call is Rivery's "invalid param", not a
 * rate limit).
 */
async function send(
  target: RiveryTarget,
  step: RiveryStep,
  method: string,
  path: string,
  body: unknown,
  ok?: boolean,
): Promise<RiveryAnswer> {
  const answer = await callJson(
    target,
    target.token,
    method,
    path,
    body,
    (timedOut, cause) => new RiveryError(step, timedOut ? "timeout" : "network", 0, cause),
    true,
  );
  const { status } = answer;
  if (ok && (status < 200 || status > 299)) {
    throw new RiveryError(step, status === 429 && step === "create" ? "invalid_param" : "status", status);
  }
  return answer;
}

/** `POST {api}/oauth2`: a new credentials request (a "pull") for a datasource, valid for validity_duration seconds. */
export async function createPull(
  target: RiveryTarget,
  body: { datasource_id: string; validity_duration: number },
): Promise<{ pull_id: string; auth_uri: string }> {
  const answer = (await send(target, "create", "POST", "oauth2", body, true)).body as Json;
  const { pull_id, auth_uri } = answer ?? {};
  if (typeof pull_id !== "string" || !/^[\x21-\x7e]{1,4096}$/.test(pull_id) || typeof auth_uri !== "string") {
    throw new RiveryError("create", "malformed");
  }
  return { pull_id, auth_uri };
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

/**
 * `PUT {api}/connections`: creates the connection; `credentials` is the
 * credentials answer, passed on untouched. Rivery's `_id` becomes the
 * session's connectionId (a KV value), so it is constrained.
 */
export async function createConnection(
  target: RiveryTarget,
  body: { connection_type: string; connection_name: string; credentials: Readonly<Record<string, unknown>> },
): Promise<{ _id: string }> {
  const { _id } = ((await send(target, "connection", "PUT", "connections", body, true)).body as Json) ?? {};
  if (typeof _id !== "string" || !/^[A-Za-z0-9_-]{1,128}$/.test(_id)) throw new RiveryError("connection", "malformed");
  return { _id };
}
