import type { Context } from "hono";
import type { Config, ConfigProblem, Zone, ZoneSetting } from "../../config/types";
import { ZONES } from "../../config/types";
import { VERSION } from "../../version";
import type { AppEnv } from "../context";

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

/** Zones requests can reach without asking for one: PEAKA_ZONE and the ZONE_BY_HOST targets. */
function zonesInUse(config: Config): Zone[] {
  const used = new Set<Zone>([config.defaultZone, ...config.zoneByHost.values()]);
  return ZONES.filter((zone) => used.has(zone));
}

/**
 * What keeps this deployment from serving every flow it is set up for, by
 * variable name and rule, never by value: a zone in use must reach Peaka's
 * API (start, exchange) and, in relay mode, Peaka's callback; an entry
 * secret that is set must be valid.
 */
export function configProblems(config: Config): (ConfigProblem & { zone?: Zone })[] {
  const needed: ZoneSetting[] = [
    "apiUrl",
    "projectId",
    "apiKey",
    ...(config.mode === "relay" ? ["callbackUrl" as const] : []),
  ];
  const problems: (ConfigProblem & { zone?: Zone })[] = [];
  for (const zone of zonesInUse(config)) {
    for (const setting of needed) {
      const problem = config.zones[zone].problems[setting];
      if (problem) problems.push({ zone, ...problem });
    }
  }
  for (const secret of [config.adminToken, config.linkSigningKey, config.resultSigningKey]) {
    if (secret.state === "invalid") problems.push(secret.problem);
    else if (secret.state === "set" && secret.previousProblem) problems.push(secret.previousProblem);
  }
  if (config.webhooks.state === "invalid") problems.push(...config.webhooks.problems);
  if (config.publicOrigins.size === 0) {
    problems.push({ variable: "PUBLIC_ORIGINS", reason: "is not set: no connection can start" });
  }
  return problems;
}

/** Secrets with a `_PREVIOUS` in use: a rotation in progress (docs/deploy.md), by name, to finish later. */
function rotating({ adminToken, linkSigningKey, resultSigningKey, webhooks }: Config): string[] {
  return Object.entries({
    ADMIN_TOKEN: adminToken,
    LINK_SIGNING_KEY: linkSigningKey,
    RESULT_SIGNING_KEY: resultSigningKey,
  })
    .filter(([, s]) => s.state === "set" && s.previous)
    .map(([name]) => name)
    .concat(webhooks.state === "on" && webhooks.secrets.length > 1 ? ["WEBHOOK_SECRET"] : []);
}

export function health(c: Context<AppEnv>): Response {
  const config = c.get("config");
  const problems = configProblems(config);
  const rotation = rotating(config);
  const log = c.get("log");
  log.route = "health";
  log.outcome = problems.length === 0 ? "ok" : "degraded";
  return c.json({
    ok: problems.length === 0,
    status: problems.length === 0 ? "ok" : "degraded",
    version: VERSION,
    mode: config.mode,
    defaultZone: config.defaultZone,
    zones: zoneSummary(config),
    // Which ways in are switched on (their secrets set), without the secrets.
    start: { api: config.adminToken.state === "set", links: config.linkSigningKey.state === "set" },
    browserBinding: config.browserBinding,
    signedResult: config.resultSigningKey.state === "set",
    ...(rotation.length > 0 ? { rotating: rotation } : {}),
    ...(problems.length > 0 ? { problems } : {}),
  });
}
