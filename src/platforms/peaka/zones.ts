import { requireZoneSetting } from "../../config/load";
import type { Zone } from "../../config/types";
import type { Deps } from "../../core/deps";
import type { PeakaTarget } from "./client";

/** The zone's partner API coordinates; throws a ConfigError naming what is missing. */
export function peakaTarget(deps: Deps, zone: Zone): PeakaTarget {
  const settings = deps.config.zones[zone];
  return {
    apiUrl: requireZoneSetting(settings, "apiUrl"),
    projectId: requireZoneSetting(settings, "projectId"),
    apiKey: requireZoneSetting(settings, "apiKey"),
    timeoutMs: deps.config.peakaTimeoutMs,
    fetch: deps.fetch,
    clock: deps.clock,
  };
}
