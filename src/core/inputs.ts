import type { Config, Zone } from "../config/types";
import { AppFailure } from "../failures/failure";
import { checkReturnUrl, type ReturnUrlRejection } from "../security/return-url";
import type { Deps } from "./deps";
import { zoneForHost } from "./zone";

const REJECTION_TEXT: Record<ReturnUrlRejection, string> = {
  too_long: "must be at most 2048 characters",
  bad_character: "must not contain whitespace, control characters, backslashes or non-ASCII characters",
  unparseable: "must be an absolute URL written scheme://host/…",
  scheme: "must be https (http only for a listed localhost or 127.0.0.1 origin)",
  userinfo: "must not contain a user name or password",
  authority:
    "must write its host in plain ASCII, as it is served (no percent-escapes, Unicode or numeric spellings), and leave out a default port such as :443",
  origin: "must have an origin listed in RETURN_ORIGINS",
};

/** The allow-list, on write: refused before anything is created or stored. */
export function allowedReturnUrl(config: Config, returnUrl: string): string {
  const check = checkReturnUrl(returnUrl, config.returnOrigins);
  if (!check.ok) {
    throw new AppFailure("return_url_not_allowed", {
      detail: `returnUrl ${REJECTION_TEXT[check.reason]}.`,
      fields: [{ field: "returnUrl", problem: REJECTION_TEXT[check.reason] }],
    });
  }
  // Stored as given, so the partner's own query survives byte for byte; it is re-checked before use.
  return returnUrl;
}

/** The zone asked for, else the one this host serves. */
export function chooseZone(deps: Deps, requested: Zone | undefined): Zone {
  if (requested) {
    deps.log.source = "request";
    return requested;
  }
  const { zone, source } = zoneForHost(deps.config, deps.host);
  deps.log.source = source;
  return zone;
}
