import type { Zone } from "../../config/types";
import { requirePublicOrigin } from "../../core/binding";
import type { Deps } from "../../core/deps";
import type { Created, CreateInput, PlatformAdapter, Warning } from "../../core/platform";
import { emitEvent } from "../../observability/log";
import { safeUrl } from "../../security/url-scheme";
import { createConnection } from "./client";
import { peakaCreateBody, type WorkerUrls, workerUrls } from "./create-body";
import { PeakaMalformedResponseError } from "./errors";
import { peakaTarget } from "./zones";

/** Peaka's consent URL is where the browser goes next: an absolute https URL (http only on loopback) or nothing. */
function consentUrlFrom(url: string | undefined, connectionId: string): URL | undefined {
  if (url === undefined) return undefined;
  const parsed = safeUrl(url);
  if (!parsed) {
    const error = new PeakaMalformedResponseError();
    error.connectionId = connectionId;
    throw error;
  }
  return parsed;
}

/**
 * The redirect URIs an OAuth app may be registered with for this mode: the
 * worker's callback, or in relay mode also Peaka's own (options 2.a, 2.b.1).
 */
function acceptedRedirectUris(deps: Deps, zone: Zone, urls: WorkerUrls): string[] {
  const peakaCallback = deps.config.mode === "relay" ? deps.config.zones[zone].callbackUrl : undefined;
  return [urls.callback, ...(peakaCallback ? [peakaCallback] : [])];
}

function sameUrl(a: string, b: string): boolean {
  return URL.canParse(a) && URL.canParse(b) && new URL(a).href === new URL(b).href;
}

/**
 * A consent URL whose redirect_uri is none of ours means the OAuth app is
 * registered with the wrong redirect URI: the provider would send the user
 * somewhere this worker never sees. Said in the answer and in the log (by
 * host only; the log takes no URLs).
 */
function redirectUriWarnings(deps: Deps, zone: Zone, consentUrl: URL, connectionId: string): Warning[] {
  const actual = consentUrl.searchParams.get("redirect_uri");
  if (actual === null) return [];
  const accepted = acceptedRedirectUris(deps, zone, workerUrls(requirePublicOrigin(deps), deps.config));
  if (accepted.some((uri) => sameUrl(actual, uri))) return [];
  const host = URL.canParse(actual) ? new URL(actual).host : "unparseable";
  const mode = deps.config.mode;
  emitEvent("warn", "redirect_uri_mismatch", { connectionId, zone, mode, redirectUriHost: host });
  return [
    {
      code: "redirect_uri_mismatch",
      message: `The consent URL's redirect_uri is ${actual}, but this deployment (CALLBACK_MODE=${mode}) expects ${accepted.join(" or ")}. Register that redirect URI in the OAuth app, or the user will not come back through this service.`,
    },
  ];
}

/**
 * Peaka as a platform: guide steps 2-4 create the connection in the zone's
 * project, with the callback fields filled from the PUBLIC_ORIGINS entry the
 * request came to (never from an unlisted Host header) and the mode. Relay, exchange and completion are in ./callbacks.ts.
 */
export const peakaAdapter: PlatformAdapter = {
  platform: "peaka",

  async create(deps: Deps, input: CreateInput): Promise<Created> {
    const body = peakaCreateBody(input, deps.config.mode, workerUrls(requirePublicOrigin(deps), deps.config));
    const connection = await createConnection(peakaTarget(deps, input.zone), body);
    const consentUrl = consentUrlFrom(connection.url, connection.id);
    return {
      connectionId: connection.id,
      consentUrl,
      warnings: consentUrl ? redirectUriWarnings(deps, input.zone, consentUrl, connection.id) : [],
    };
  },

  checkConsentUrl: redirectUriWarnings,
};
