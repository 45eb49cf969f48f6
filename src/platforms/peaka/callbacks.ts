import { requireZoneSetting } from "../../config/load";
import type { Config, Zone } from "../../config/types";
import { requireBrowser } from "../../core/binding";
import { CONNECTION_ID, CONNECTION_ID_RULE } from "../../core/callback-params";
import { linkOf, settleLater } from "../../core/connect-session";
import type { Deps } from "../../core/deps";
import { toFailure } from "../../core/errors";
import { flowReturn } from "../../core/result";
import {
  finishOutcome,
  type Outcome,
  priorOutcome,
  returnUrlFor,
  saveOutcome,
  sessionForState,
} from "../../core/session";
import type { Redirect } from "../../core/way-back";
import { type ZoneSource, zoneForHost } from "../../core/zone";
import { AppFailure } from "../../failures/failure";
import { causeName } from "../../observability/log";
import type { StateRecord } from "../../storage/records";
import { exchangeCallback } from "./client";
import { PeakaError } from "./errors";
import { peakaTarget } from "./zones";

/**
 * Guide 2.b.2: the OAuth app's redirect URI lives on the partner's domain and
 * forwards to Peaka's callback with a 307, query string byte for byte, so the
 * browser repeats a form_post body too.
 */
export function relayRedirect(config: Config, zone: Zone, rawQuery: string): Redirect {
  const callback = requireZoneSetting(config.zones[zone], "callbackUrl");
  return { location: rawQuery === "" ? callback : `${callback}?${rawQuery}`, status: 307 };
}

/**
 * Checks the relay may go on and picks its zone. With BROWSER_BINDING
 * required, the state record must name this browser before the code leaves
 * the worker: one KV read, and a KV failure stops the relay (the binding
 * cannot be checked). Without binding: one relay zone needs no KV read at
 * all (this sits on every OAuth callback's path); with two, the state record
 * names the zone, and a missing record or a KV failure falls back to the
 * host mapping rather than blocking the user.
 */
export async function relayZone(deps: Deps, state: string | undefined): Promise<{ zone: Zone; source: ZoneSource }> {
  const { config, log } = deps;
  const bound = config.browserBinding === "required";
  if (!bound && (config.relayZones.length < 2 || state === undefined)) return zoneForHost(config, deps.host);
  let record: StateRecord | undefined;
  if (state !== undefined) {
    try {
      record = await sessionForState(deps, state);
    } catch (error) {
      if (bound) throw toFailure(error);
      log.cause = causeName(error);
      log.degraded = "storage_unavailable";
    }
  }
  if (record) log.connectionId = record.connectionId;
  await requireBrowser(deps, record?.browser, record?.connectionId);
  return record ? { zone: record.zone, source: "record" } : zoneForHost(config, deps.host);
}

// RFC 6749 error codes are short ASCII words; anything else is not passed on verbatim.
const PROVIDER_ERROR = /^[A-Za-z0-9._-]{1,64}$/;
// Printable ASCII without < > " ' & and backslash: a description that could
// turn into markup on a partner's page is dropped, not passed on.
const PROVIDER_DESCRIPTION = /^[\x20\x21\x23-\x25\x28-\x3b\x3d\x3f-\x5b\x5d-\x7e]{1,256}$/;

/**
 * Guide 2.b.3 ("own callback"): the browser never visits Peaka. The
 * provider's parameters (`queryParameters`, exactly as received) go to
 * `POST /connections/{projectId}/oauth2`; the outcome is remembered by the
 * code so a repeated callback gets the same answer without a second call.
 */
export async function exchange(deps: Deps, queryParameters: string, params: URLSearchParams): Promise<Redirect> {
  const { log } = deps;
  const code = params.get("code");
  const state = params.get("state") ?? undefined;
  const providerError = params.get("error");

  if (code === null) {
    if (providerError === null) {
      throw new AppFailure("invalid_request", { detail: "The callback carries neither code nor error." });
    }
    return denied(deps, state, providerError, params.get("error_description"));
  }

  // Both reads at once: the replay check and the way back. A KV failure in
  // either must not cost the user their connection, so each degrades alone.
  const [prior, stateRecord] = await Promise.allSettled([
    priorOutcome(deps, code),
    state === undefined ? Promise.resolve(undefined) : sessionForState(deps, state),
  ]);
  if (prior.status === "fulfilled" && prior.value) {
    // A replay goes only to the browser the first answer went to.
    await requireBrowser(deps, prior.value.browser, prior.value.connectionId);
    log.outcome = "replayed";
    return finishOutcome(deps, prior.value, "exchange");
  }
  const bound = deps.config.browserBinding === "required";
  for (const read of [prior, stateRecord]) {
    if (read.status === "rejected") {
      // Bound flows fail closed: without the records the binding cannot be checked.
      if (bound) throw toFailure(read.reason);
      log.cause = causeName(read.reason);
      log.degraded = "storage_unavailable";
    }
  }
  const record = stateRecord.status === "fulfilled" ? stateRecord.value : undefined;
  // Before the code leaves the worker: another browser gets 403 and Peaka is not called.
  await requireBrowser(deps, record?.browser, record?.connectionId);

  const { zone, source } = record
    ? { zone: record.zone, source: "record" as const }
    : zoneForHost(deps.config, deps.host);
  log.zone = zone;
  log.source = source;
  if (record) log.connectionId = record.connectionId;
  const target = peakaTarget(deps, zone);

  let outcome: Outcome;
  try {
    const connection = await exchangeCallback(target, queryParameters);
    log.connectionId = connection.id;
    outcome = {
      status: "success",
      connectionId: connection.id,
      ...(await returnUrlFor(deps, record, connection.id)),
      zone,
      browser: record?.browser,
    };
  } catch (error) {
    if (!(error instanceof PeakaError)) throw error;
    log.cause = error.name;
    log.peakaStatus = error.platformStatus;
    outcome = {
      status: "fail",
      error: error.code,
      zone,
      // Without a record: all undefined, which the stored JSON leaves out.
      connectionId: record?.connectionId,
      returnUrl: record?.returnUrl,
      browser: record?.browser,
      ...linkOf(record),
    };
  }
  // Only a fresh outcome settles the session: a replay has nothing new to say.
  settleLater(deps, outcome.sessionId, outcome.status, outcome.connectionId, outcome.error);
  saveOutcome(deps, code, outcome);
  return finishOutcome(deps, outcome, "exchange");
}

/** The user said no (or the provider failed): no call to Peaka, straight back with the provider's error. */
async function denied(
  deps: Deps,
  state: string | undefined,
  providerError: string,
  description: string | null,
): Promise<Redirect> {
  const { log } = deps;
  const error = PROVIDER_ERROR.test(providerError) ? providerError : "provider_error";
  log.error = "provider_denied";
  let record: StateRecord | undefined;
  if (state !== undefined) {
    try {
      record = await sessionForState(deps, state);
    } catch (failure) {
      log.cause = causeName(failure);
      log.degraded = "storage_unavailable";
    }
  }
  if (!record) throw new AppFailure("provider_denied", { detail: `The provider answered "${error}".` });
  log.connectionId = record.connectionId;
  log.zone = record.zone;
  await requireBrowser(deps, record.browser, record.connectionId);
  log.outcome = "returned";
  settleLater(deps, record.sessionId, "fail", record.connectionId, error);
  return flowReturn(deps, record.returnUrl, {
    connectionId: record.connectionId,
    status: "fail",
    error,
    zone: record.zone,
    via: "redirect",
    session: record,
    extra: {
      error_description: description !== null && PROVIDER_DESCRIPTION.test(description) ? description : undefined,
    },
  });
}

export interface CompletionParams {
  readonly connectionId: string;
  readonly status: "success" | "fail";
}

/**
 * Parses Peaka's redirect to the partner callback. Peaka's guide writes it as
 * `?connectionId=X?status=Y` (a second `?`), so `?` separates pairs as well as
 * `&`. Both values are restricted to characters that cannot contain a `?`.
 */
export function parseCompletion(query: string): CompletionParams {
  const params = new URLSearchParams(query.replaceAll("?", "&"));
  const ids = params.getAll("connectionId");
  const statuses = params.getAll("status");
  if (ids.length > 1 || statuses.length > 1) {
    throw new AppFailure("duplicate_parameter", { detail: "connectionId and status must appear once." });
  }
  const connectionId = ids[0];
  if (connectionId === undefined || !CONNECTION_ID.test(connectionId)) {
    throw new AppFailure("invalid_request", { detail: `connectionId ${CONNECTION_ID_RULE}.` });
  }
  return { connectionId, status: statuses[0] === "success" ? "success" : "fail" };
}
