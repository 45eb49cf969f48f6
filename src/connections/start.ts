import type { Context } from "hono";
import type { Config, Zone } from "../config/types";
import type { AppEnv } from "../http/context";
import { AppFailure } from "../http/failures";
import { emitEvent } from "../http/log";
import { createConnection } from "../peaka/client";
import { failureCodeFor, PeakaError } from "../peaka/errors";
import { hasAllowedScheme } from "../security/url-scheme";
import { Store } from "../store/store";
import { peakaTarget } from "../zones/select";
import { peakaCreateBody, type WorkerUrls, workerUrls } from "./peaka-body";

export interface StartInput {
  readonly type: string;
  readonly name: string;
  /** Already checked against RETURN_ORIGINS. */
  readonly returnUrl: string;
  readonly zone: Zone;
  readonly credential?: Readonly<Record<string, string>> | undefined;
}

export interface Warning {
  readonly code: "redirect_uri_mismatch";
  readonly message: string;
}

export interface StartedConnection {
  readonly connectionId: string;
  /** Absent for credential types that need no consent (option 1). */
  readonly consentUrl?: string;
  readonly zone: Zone;
  /** When the stored records expire (epoch ms). */
  readonly expiresAt: number;
  readonly warnings: readonly Warning[];
}

/** Peaka's consent URL is where the browser goes next: an absolute https URL (http only on loopback) or nothing. */
function consentUrlFrom(url: string | undefined, connectionId: string): URL | undefined {
  if (url === undefined) return undefined;
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  if (!parsed || !hasAllowedScheme(parsed) || parsed.username || parsed.password) {
    throw new AppFailure("peaka_rejected", { connectionId, detail: "Peaka's consent URL is not an https URL." });
  }
  return parsed;
}

/**
 * Writes what the callbacks need: the connection record, and the state
 * record when the consent URL carries `state`. At most two writes, in
 * parallel, awaited: the user may be back from the provider within seconds.
 */
async function remember(
  store: Store,
  connectionId: string,
  record: { returnUrl: string; zone: Zone; mode: Config["mode"] },
  consentUrl: URL | undefined,
): Promise<number> {
  const state = consentUrl?.searchParams.get("state") ?? undefined;
  try {
    const [expiresAt] = await Promise.all([
      store.putConnection(connectionId, { ...record, createdAt: Date.now() }),
      state ? store.putState(state, { connectionId, returnUrl: record.returnUrl, zone: record.zone }) : undefined,
    ]);
    return expiresAt;
  } catch (error) {
    // Peaka may already hold the connection: name it, so it can be traced.
    if (error instanceof AppFailure) throw new AppFailure(error.code, { connectionId, cause: error.cause });
    throw error;
  }
}

/**
 * The redirect URIs an OAuth app may be registered with for this mode: the
 * worker's callback, or in relay mode also Peaka's own (options 2.a, 2.b.1).
 */
function acceptedRedirectUris(config: Config, zone: Zone, urls: WorkerUrls): string[] {
  const peakaCallback = config.mode === "relay" ? config.zones[zone].callbackUrl : undefined;
  return [urls.callback, ...(peakaCallback ? [peakaCallback] : [])];
}

function sameUrl(a: string, b: string): boolean {
  try {
    return new URL(a).href === new URL(b).href;
  } catch {
    return false;
  }
}

/**
 * A consent URL whose redirect_uri is none of ours means the OAuth app is
 * registered with the wrong redirect URI: the provider would send the user
 * somewhere this worker never sees. Said in the answer and in the log (by
 * host only; the log takes no URLs).
 */
function redirectUriWarnings(
  config: Config,
  zone: Zone,
  urls: WorkerUrls,
  consentUrl: URL | undefined,
  connectionId: string,
): Warning[] {
  const actual = consentUrl?.searchParams.get("redirect_uri");
  if (actual === null || actual === undefined) return [];
  const accepted = acceptedRedirectUris(config, zone, urls);
  if (accepted.some((uri) => sameUrl(actual, uri))) return [];
  let host = "unparseable";
  try {
    host = new URL(actual).host;
  } catch {
    // Reported as unparseable.
  }
  emitEvent("warn", "redirect_uri_mismatch", { connectionId, zone, mode: config.mode, redirectUriHost: host });
  return [
    {
      code: "redirect_uri_mismatch",
      message: `The consent URL's redirect_uri is ${actual}, but this deployment (CALLBACK_MODE=${config.mode}) expects ${accepted.join(" or ")}. Register that redirect URI in the OAuth app, or the user will not come back through this service.`,
    },
  ];
}

/**
 * Guide steps 2-4: creates the connection in the zone's Peaka project, with
 * callback fields filled from this worker's host and mode, then remembers
 * where the user started. Throws AppFailure: invalid_request before calling
 * Peaka, peaka_unavailable / peaka_rejected for Peaka's failures,
 * storage_unavailable when KV refuses the records.
 */
export async function startConnection(c: Context<AppEnv>, input: StartInput): Promise<StartedConnection> {
  const config = c.get("config");
  const log = c.get("log");
  const urls = workerUrls(new URL(c.req.url), config);
  const body = peakaCreateBody(input, config.mode, urls);
  const target = peakaTarget(config, input.zone);

  let connection: Awaited<ReturnType<typeof createConnection>>;
  try {
    connection = await createConnection(target, body);
  } catch (error) {
    if (!(error instanceof PeakaError)) throw error;
    throw new AppFailure(failureCodeFor(error), { cause: error });
  }
  const connectionId = connection.id;
  log.connectionId = connectionId;
  const consentUrl = consentUrlFrom(connection.url, connectionId);
  const store = new Store(c.env.CONNECTIONS, config.recordTtlSeconds);
  const expiresAt = await remember(
    store,
    connectionId,
    { returnUrl: input.returnUrl, zone: input.zone, mode: config.mode },
    consentUrl,
  );
  return {
    connectionId,
    ...(consentUrl ? { consentUrl: consentUrl.href } : {}),
    zone: input.zone,
    expiresAt,
    warnings: redirectUriWarnings(config, input.zone, urls, consentUrl, connectionId),
  };
}

/**
 * For partners who call Peaka themselves: only remember where the user
 * started. Given the consent URL Peaka returned, the state record is written
 * too, so the callbacks can resolve the user's way back.
 */
export async function registerReturn(
  c: Context<AppEnv>,
  input: { connectionId: string; returnUrl: string; zone: Zone; consentUrl?: string | undefined },
): Promise<Omit<StartedConnection, "consentUrl">> {
  const config = c.get("config");
  const { connectionId, zone } = input;
  const urls = workerUrls(new URL(c.req.url), config);
  const consentUrl = input.consentUrl === undefined ? undefined : new URL(input.consentUrl);
  const store = new Store(c.env.CONNECTIONS, config.recordTtlSeconds);
  const expiresAt = await remember(
    store,
    connectionId,
    { returnUrl: input.returnUrl, zone, mode: config.mode },
    consentUrl,
  );
  return { connectionId, zone, expiresAt, warnings: redirectUriWarnings(config, zone, urls, consentUrl, connectionId) };
}
