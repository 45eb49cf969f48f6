import type { Config, Zone } from "../config/types";

export type ZoneSource = "record" | "host" | "default" | "request";

/**
 * ZONE_BY_HOST for the request's host (with port, then without), else
 * PEAKA_ZONE. It runs on every relay: with no mapping it does no string work.
 */
export function zoneForHost(config: Config, host: string): { zone: Zone; source: ZoneSource } {
  const map = config.zoneByHost;
  const byHost = map.size === 0 ? undefined : (map.get(host) ?? map.get(host.replace(/:\d+$/, "")));
  return byHost ? { zone: byHost, source: "host" } : { zone: config.defaultZone, source: "default" };
}
