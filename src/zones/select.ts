import { requireZoneSetting } from "../config/load";
import type { Config, Zone } from "../config/types";
import type { PeakaTarget } from "../peaka/client";

export type ZoneSource = "record" | "host" | "default";

/** ZONE_BY_HOST for the request's host (with port, then without), else PEAKA_ZONE. */
export function zoneForHost(config: Config, url: URL): { zone: Zone; source: ZoneSource } {
  const byHost = config.zoneByHost.get(url.host) ?? config.zoneByHost.get(url.hostname);
  return byHost ? { zone: byHost, source: "host" } : { zone: config.defaultZone, source: "default" };
}

/** The zone's partner API coordinates; throws a ConfigError naming what is missing. */
export function peakaTarget(config: Config, zone: Zone): PeakaTarget {
  const settings = config.zones[zone];
  return {
    apiUrl: requireZoneSetting(settings, "apiUrl"),
    projectId: requireZoneSetting(settings, "projectId"),
    apiKey: requireZoneSetting(settings, "apiKey"),
    timeoutMs: config.peakaTimeoutMs,
  };
}
