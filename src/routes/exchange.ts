import type { Context } from "hono";
import type { Config } from "../config/types";
import { afterResponse } from "../http/background";
import type { AppEnv } from "../http/context";
import { AppFailure, type FailureCode } from "../http/failures";
import { causeName } from "../http/log";
import { rawQuery, readFormBody, rejectDuplicates } from "../http/query";
import { returnTo } from "../http/respond";
import { exchangeCallback } from "../peaka/client";
import { failureCodeFor, PeakaError, peakaStatusOf } from "../peaka/errors";
import type { OutcomeRecord, StateRecord } from "../store/records";
import { Store } from "../store/store";
import { peakaTarget, zoneForHost } from "../zones/select";

type Outcome = Omit<OutcomeRecord, "v" | "expiresAt">;

/**
 * Guide 2.b.3 ("own callback"): the browser never visits Peaka. The worker
 * hands the provider's parameters to `POST /connections/{projectId}/oauth2`
 * and sends the user back to where they started.
 */
export async function exchange(c: Context<AppEnv>): Promise<Response> {
  const config = c.get("config");
  const log = c.get("log");
  log.route = "exchange";
  log.mode = "exchange";
  // Hono routes HEAD to GET handlers; a HEAD (a link prefetcher, a monitor)
  // must never spend the user's one-time code.
  if (c.req.method === "HEAD") throw new AppFailure("method_not_allowed", { headers: { Allow: "GET, POST" } });

  // The string Peaka receives is exactly what the provider sent: the raw
  // query for a redirect, the raw body for response_mode=form_post.
  const queryParameters = c.req.method === "POST" ? await readFormBody(c.req.raw) : rawQuery(c.req.url);
  const params = new URLSearchParams(queryParameters);
  rejectDuplicates(params);
  const code = params.get("code");
  const state = params.get("state") ?? undefined;
  const providerError = params.get("error");

  const store = new Store(c.env.CONNECTIONS, config.recordTtlSeconds);

  if (code === null) {
    if (providerError === null)
      throw new AppFailure("invalid_request", { detail: "The callback carries neither code nor error." });
    return denied(c, config, store, state, providerError, params.get("error_description"));
  }

  // Both reads at once: the replay check and the way back. A KV failure in
  // either must not cost the user their connection, so each degrades alone.
  const [prior, stateRecord] = await Promise.allSettled([
    store.getOutcome(code),
    state === undefined ? Promise.resolve(undefined) : store.getState(state),
  ]);
  if (prior.status === "fulfilled" && prior.value) {
    log.outcome = "replayed";
    return finish(config, prior.value, c);
  }
  for (const read of [prior, stateRecord]) if (read.status === "rejected") log.cause = causeName(read.reason);
  const record = stateRecord.status === "fulfilled" ? stateRecord.value : undefined;

  const { zone, source } = record
    ? { zone: record.zone, source: "record" as const }
    : zoneForHost(config, new URL(c.req.url));
  log.zone = zone;
  log.source = source;
  if (record) log.connectionId = record.connectionId;
  const target = peakaTarget(config, zone);

  let outcome: Outcome;
  try {
    const connection = await exchangeCallback(target, queryParameters);
    log.connectionId = connection.id;
    outcome = { status: "success", connectionId: connection.id, ...(await returnUrlFor(store, record, connection.id)) };
    afterResponse(c, "delete_connection", store.deleteConnection(connection.id));
  } catch (error) {
    if (!(error instanceof PeakaError)) throw error;
    log.cause = error.name;
    log.peakaStatus = peakaStatusOf(error);
    outcome = {
      status: "fail",
      error: failureCodeFor(error),
      ...(record ? { connectionId: record.connectionId, returnUrl: record.returnUrl } : {}),
    };
  }
  afterResponse(c, "save_outcome", store.putOutcome(code, outcome));
  return finish(config, outcome, c);
}

/** The stored way back for a connection Peaka confirmed: the state record when it matches, else the connection record. */
async function returnUrlFor(
  store: Store,
  record: StateRecord | undefined,
  connectionId: string,
): Promise<{ returnUrl?: string }> {
  if (record?.connectionId === connectionId) return { returnUrl: record.returnUrl };
  try {
    const connection = await store.getConnection(connectionId);
    return connection ? { returnUrl: connection.returnUrl } : {};
  } catch (error) {
    throw new AppFailure("storage_unavailable", { connectionId, cause: error });
  }
}

/** Turns an outcome (fresh or replayed) into the user's redirect or an error page. */
function finish(config: Config, outcome: Outcome, c: Context<AppEnv>): Response {
  const log = c.get("log");
  if (outcome.connectionId) log.connectionId = outcome.connectionId;
  if (outcome.status === "fail") log.error = outcome.error;
  const params = { connectionId: outcome.connectionId, status: outcome.status, error: outcome.error };
  if (outcome.returnUrl) {
    log.outcome ??= "returned";
    return returnTo(config, outcome.returnUrl, params);
  }
  if (outcome.status === "success" && config.defaultReturnUrl) {
    log.outcome ??= "fallback";
    return returnTo(config, config.defaultReturnUrl, params);
  }
  const code: FailureCode =
    outcome.status === "success"
      ? "unknown_connection"
      : ((outcome.error as FailureCode | undefined) ?? "peaka_rejected");
  throw new AppFailure(code, { connectionId: outcome.connectionId });
}

// RFC 6749 error codes are short ASCII words; anything else is not passed on verbatim.
const PROVIDER_ERROR = /^[A-Za-z0-9._-]{1,64}$/;
const PROVIDER_DESCRIPTION = /^[\x20-\x21\x23-\x5b\x5d-\x7e]{1,256}$/;

/** The user said no (or the provider failed): no call to Peaka, straight back with the provider's error. */
async function denied(
  c: Context<AppEnv>,
  config: Config,
  store: Store,
  state: string | undefined,
  providerError: string,
  description: string | null,
): Promise<Response> {
  const log = c.get("log");
  const error = PROVIDER_ERROR.test(providerError) ? providerError : "provider_error";
  log.error = "provider_denied";
  let record: StateRecord | undefined;
  if (state !== undefined) {
    try {
      record = await store.getState(state);
    } catch (failure) {
      log.cause = causeName(failure);
    }
  }
  if (!record) throw new AppFailure("provider_denied", { detail: `The provider answered "${error}".` });
  log.connectionId = record.connectionId;
  log.zone = record.zone;
  log.outcome = "returned";
  return returnTo(config, record.returnUrl, {
    connectionId: record.connectionId,
    status: "fail",
    error,
    error_description: description !== null && PROVIDER_DESCRIPTION.test(description) ? description : undefined,
  });
}
