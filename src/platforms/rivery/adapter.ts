import { ConfigError } from "../../config/load";
import type { Zone } from "../../config/types";
import type { Deps } from "../../core/deps";
import type { Created, CreateInput, PlatformAdapter } from "../../core/platform";
import { safeUrl } from "../../security/url-scheme";
import { createPull, type RiveryTarget } from "./client";
import { RiveryError } from "./errors";

/** The zone's Rivery API and token; without a token a ConfigError names the variable to set. */
export function riveryTarget(deps: Deps, zone: Zone): RiveryTarget {
  const settings = deps.config.rivery[zone];
  if (settings.token === undefined) {
    throw new ConfigError([settings.problem ?? { variable: "RIVERY_API_TOKEN", reason: "is not set" }]);
  }
  return {
    apiUrl: settings.apiUrl,
    token: settings.token,
    // PEAKA_TIMEOUT_MS bounds every outbound platform call (docs/configuration.md).
    timeoutMs: deps.config.peakaTimeoutMs,
    fetch: deps.fetch,
    clock: deps.clock,
  };
}

/**
 * Rivery as a platform: `create` opens a credentials request (a "pull") for
 * the datasource; the consent URL is Rivery's auth_uri and `resume` the
 * pull_id. The connection itself is created later, once the credentials are
 * there (./flow.ts). Rivery's auth_uri redirects to Rivery's own callback,
 * so there is no redirect_uri of ours to check.
 */
export const riveryAdapter: PlatformAdapter = {
  platform: "rivery",

  async create(deps: Deps, input: CreateInput): Promise<Created> {
    const target = riveryTarget(deps, input.zone);
    const pull = await createPull(target, {
      datasource_id: input.type,
      validity_duration: deps.config.riveryValiditySeconds,
    });
    const consentUrl = safeUrl(pull.auth_uri);
    if (!consentUrl) {
      throw new RiveryError("create", "malformed");
    }
    return { consentUrl, resume: pull.pull_id, warnings: [] };
  },

  checkConsentUrl: () => [],
};
