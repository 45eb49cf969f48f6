import type { Config, Zone } from "../config/types";

export type ZoneSource = "record" | "host" | "default" | "request";

/** ZONE_BY_HOST for the request's host (with port, then without), else PEAKA_ZONE. */
export function zoneForHost(config: Config, host: string): { zone: Zone; source: ZoneSource } {
  const byHost = config.zoneByHost.get(host) ?? config.zoneByHost.get(host.replace(/:\d+$/, ""));
  return byHost ? { zone: byHost, source: "host" } : { zone: config.defaultZone, source: "default" };
}
