import type { Context } from "hono";
import type { Config } from "../config/types";
import { ZONES } from "../config/types";
import type { AppEnv } from "../http/context";
import { VERSION } from "../version";

/** What a zone can serve, as booleans: nothing here may reveal a key or id. */
function zoneSummary(config: Config) {
  return Object.fromEntries(
    ZONES.map((zone) => {
      const z = config.zones[zone];
      return [
        zone,
        {
          relay: z.callbackUrl !== undefined,
          api: z.apiUrl !== undefined && z.projectId !== undefined && z.apiKey !== undefined,
        },
      ];
    }),
  );
}

export function health(c: Context<AppEnv>): Response {
  const config = c.get("config");
  c.get("log").route = "health";
  c.get("log").outcome = "ok";
  return c.json({
    ok: true,
    version: VERSION,
    mode: config.mode,
    defaultZone: config.defaultZone,
    zones: zoneSummary(config),
    // Which ways in are switched on (their secrets set), without the secrets.
    start: { api: config.adminToken.state === "set", links: config.linkSigningKey.state === "set" },
  });
}
