import type * as z from "zod/mini";
import { checkReturnUrl } from "../security/return-url";
import { START_PATH } from "../security/start-link";
import type { BindingName, Env } from "./env";
import * as schemas from "./schemas";
import {
  type Config,
  type ConfigProblem,
  type EntrySecret,
  type RiveryZone,
  type RotatedSecret,
  type WebhookConfig,
  ZONES,
  type Zone,
  type ZoneConfig,
  type ZoneSetting,
} from "./types";

/** Raised when a request needs a setting that is missing or invalid. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
  // `declare`: the constructor sets it; a field declaration would only add bytes to the bundle.
  declare readonly problems: readonly ConfigProblem[];
  constructor(problems: readonly ConfigProblem[]) {
    super(problems.map((p) => `${p.variable} ${p.reason}`).join("; "));
    this.problems = problems;
  }
}

export type ConfigResult =
  | { readonly ok: true; readonly config: Config }
  | { readonly ok: false; readonly error: ConfigError };

export const DEFAULTS = {
  PEAKA_ZONE: "us",
  PEAKA_US_API_URL: "https://partner.peaka.studio/api/v1",
  PEAKA_EU_API_URL: "https://partner.eu.peaka.studio/api/v1",
  PEAKA_US_CALLBACK_URL: "https://peaka.studio/oauth2/callback",
  PEAKA_TIMEOUT_MS: "10000",
  ZONE_BY_HOST: "",
  CALLBACK_MODE: "relay",
  CALLBACK_PATH: "/oauth2/mycallback",
  COMPLETE_PATH: "/oauth2/complete",
  RETURN_ORIGINS: "",
  RECORD_TTL_SECONDS: "3600",
  SESSION_TTL_SECONDS: "604800",
  PUBLIC_ORIGINS: "",
  BROWSER_BINDING: "required",
  RIVERY_US_API_URL: "https://console.rivery.io/api",
  RIVERY_EU_API_URL: "https://eu-west-1.console.rivery.io/api",
  RIVERY_VALIDITY_SECONDS: "900",
} as const satisfies Partial<Record<keyof Env, string>>;

type VarName = Exclude<keyof Env, BindingName>;

function raw(env: Env, name: VarName): string | undefined {
  const value: unknown = env[name];
  // wrangler.toml may hold numbers; an empty string means "unset".
  const text = typeof value === "number" ? String(value) : typeof value === "string" ? value.trim() : "";
  if (text !== "") return text;
  return (DEFAULTS as Partial<Record<VarName, string>>)[name];
}

/** Parses one variable: the value, or undefined with the problem pushed onto `problems`. */
function parse<T>(problems: ConfigProblem[], env: Env, name: VarName, schema: z.ZodMiniType<T>): T | undefined {
  const value = raw(env, name);
  if (value === undefined) return undefined;
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  problems.push({ variable: name, reason: result.error.issues[0]?.message ?? "is invalid" });
  return undefined;
}

const ZONE_SETTINGS: Record<ZoneSetting, { suffix: string; fallback?: VarName; schema: z.ZodMiniType<string> }> = {
  apiUrl: { suffix: "API_URL", schema: schemas.apiUrlSchema },
  callbackUrl: { suffix: "CALLBACK_URL", schema: schemas.callbackUrlSchema },
  projectId: { suffix: "PROJECT_ID", fallback: "PEAKA_PROJECT_ID", schema: schemas.projectIdSchema },
  apiKey: { suffix: "API_KEY", fallback: "PEAKA_API_KEY", schema: schemas.apiKeySchema },
};

function parseZone(env: Env, zone: Zone): ZoneConfig {
  const values: Partial<Record<ZoneSetting, string>> = {};
  const problems: Partial<Record<ZoneSetting, ConfigProblem>> = {};
  for (const [setting, spec] of Object.entries(ZONE_SETTINGS) as [ZoneSetting, (typeof ZONE_SETTINGS)[ZoneSetting]][]) {
    const own = `PEAKA_${zone.toUpperCase()}_${spec.suffix}` as VarName;
    const name = raw(env, own) !== undefined || !spec.fallback ? own : spec.fallback;
    const found: ConfigProblem[] = [];
    const value = parse(found, env, name, spec.schema);
    if (value !== undefined) values[setting] = value;
    else {
      problems[setting] = found[0] ?? {
        variable: spec.fallback ? `${own} (or ${spec.fallback})` : own,
        reason: "is not set",
      };
    }
  }
  return { zone, ...values, problems };
}

/**
 * A zone's Rivery API. The URL has a default, so a bad one is a config error
 * for the whole worker; the token is a secret that only Rivery starts need,
 * so its absence fails only them (config_invalid naming it).
 */
function parseRivery(problems: ConfigProblem[], env: Env, zone: Zone): RiveryZone | undefined {
  const upper = zone.toUpperCase();
  const apiUrl = parse(problems, env, `RIVERY_${upper}_API_URL` as VarName, schemas.riveryApiUrlSchema);
  if (apiUrl === undefined) return undefined;
  const own = `RIVERY_${upper}_API_TOKEN` as VarName;
  const name = raw(env, own) !== undefined ? own : "RIVERY_API_TOKEN";
  const tokens: ConfigProblem[] = [];
  const token = parse(tokens, env, name, schemas.apiKeySchema);
  if (token !== undefined) return { apiUrl, token };
  return { apiUrl, problem: tokens[0] ?? { variable: `RIVERY_API_TOKEN (or ${own})`, reason: "is not set" } };
}

function parseEntrySecret(env: Env, name: RotatedSecret): EntrySecret {
  const problems: ConfigProblem[] = [];
  const value = parse(problems, env, name, schemas.entrySecretSchema);
  const previousName = `${name}_PREVIOUS` as const;
  const previous = parse(problems, env, previousName, schemas.entrySecretSchema);
  // With the current key valid, a problem can only be the previous key's.
  const [problem] = problems;
  if (value !== undefined) return { state: "set", value, previous, previousProblem: problem };
  if (problem) return { state: "invalid", problem };
  // The old key alone: the new one was most likely put under the wrong name.
  return previous === undefined
    ? { state: "unset" }
    : { state: "invalid", problem: { variable: name, reason: `is not set, but ${previousName} is` } };
}

function parseWebhooks(env: Env): WebhookConfig {
  const problems: ConfigProblem[] = [];
  const url = parse(problems, env, "WEBHOOK_URL", schemas.webhookUrlSchema);
  const secret = parse(problems, env, "WEBHOOK_SECRET", schemas.webhookSecretSchema);
  const previous = parse(problems, env, "WEBHOOK_SECRET_PREVIOUS", schemas.webhookSecretSchema);
  const retryBaseSeconds = parse(problems, env, "WEBHOOK_RETRY_BASE_SECONDS", schemas.retryBaseSchema) ?? 10;
  const hasUrl = raw(env, "WEBHOOK_URL");
  const hasSecret = raw(env, "WEBHOOK_SECRET");
  // Each needs the other (WEBHOOK_SECRET_PREVIOUS alone changes nothing: it only signs beside WEBHOOK_SECRET).
  if (!hasUrl !== !hasSecret)
    problems.push({ variable: hasUrl ? "WEBHOOK_SECRET" : "WEBHOOK_URL", reason: "is not set" });
  if (problems.length > 0 || !url || !secret) {
    return hasUrl || hasSecret || problems.length > 0 ? { state: "invalid", problems } : { state: "off" };
  }
  return { state: "on", url, secrets: previous ? [secret, previous] : [secret], retryBaseSeconds };
}

/** Paths the worker serves itself, which the configurable paths must not shadow. */
function reservedPath(path: string): boolean {
  return (
    path === START_PATH ||
    path === BEGIN_PATH ||
    path === WAIT_PATH ||
    path.startsWith(SESSIONS_PATH) ||
    path === "/healthz" ||
    path === "/api" ||
    path.startsWith("/api/")
  );
}

/** Where the server API's startUrl points (core/begin.ts): reserved here like the other paths the worker serves. */
export const BEGIN_PATH = "/oauth2/begin";
/** A Rivery session's startUrl: the waiting page (docs/rivery.md). */
export const WAIT_PATH = "/oauth2/wait";
/** The browser-bound session status, `GET /oauth2/sessions/{sessionId}`. */
export const SESSIONS_PATH = "/oauth2/sessions/";

/** The variables every deployment has (each has a default), by Config field, parsed in this order. */
const VARS = {
  defaultZone: ["PEAKA_ZONE", schemas.zoneSchema],
  mode: ["CALLBACK_MODE", schemas.modeSchema],
  callbackPath: ["CALLBACK_PATH", schemas.pathSchema],
  completePath: ["COMPLETE_PATH", schemas.pathSchema],
  zoneByHost: ["ZONE_BY_HOST", schemas.zoneByHostSchema],
  returnOrigins: ["RETURN_ORIGINS", schemas.originsSchema],
  recordTtlSeconds: ["RECORD_TTL_SECONDS", schemas.ttlSchema],
  sessionTtlSeconds: ["SESSION_TTL_SECONDS", schemas.ttlSchema],
  peakaTimeoutMs: ["PEAKA_TIMEOUT_MS", schemas.timeoutSchema],
  publicOrigins: ["PUBLIC_ORIGINS", schemas.publicOriginsSchema],
  browserBinding: ["BROWSER_BINDING", schemas.browserBindingSchema],
} as const satisfies Record<string, readonly [VarName, z.ZodMiniType<unknown>]>;

type Vars = { -readonly [K in keyof typeof VARS]: z.infer<(typeof VARS)[K][1]> };

export function parseConfig(env: Env): ConfigResult {
  const problems: ConfigProblem[] = [];
  const vars = {} as Record<string, unknown>;
  for (const [key, [name, schema]] of Object.entries(VARS)) {
    vars[key] = parse<unknown>(problems, env, name, schema);
  }
  // Every one has a default: until the problems are checked below, a value is undefined only beside its problem.
  const { callbackPath, completePath, returnOrigins, recordTtlSeconds, sessionTtlSeconds } = vars as Vars;
  const errorUrl = raw(env, "ERROR_URL");
  const defaultReturnUrl = raw(env, "DEFAULT_RETURN_URL");
  const riveryUs = parseRivery(problems, env, "us");
  const riveryEu = parseRivery(problems, env, "eu");
  const riveryValiditySeconds = parse(problems, env, "RIVERY_VALIDITY_SECONDS", schemas.riveryValiditySchema);

  // A session must outlive its flow records, or a pending flow could lose the session it settles.
  // (Either one undefined compares false.)
  if (sessionTtlSeconds < recordTtlSeconds) {
    problems.push({ variable: "SESSION_TTL_SECONDS", reason: "must be at least RECORD_TTL_SECONDS" });
  }
  if (callbackPath !== undefined && callbackPath === completePath) {
    problems.push({ variable: "COMPLETE_PATH", reason: "must differ from CALLBACK_PATH" });
  }
  for (const [variable, path] of [
    ["CALLBACK_PATH", callbackPath],
    ["COMPLETE_PATH", completePath],
  ] as const) {
    if (path !== undefined && reservedPath(path)) {
      problems.push({
        variable,
        reason: `must not be ${START_PATH}, ${BEGIN_PATH}, ${WAIT_PATH}, under ${SESSIONS_PATH}, /healthz or under /api/ (the worker serves those)`,
      });
    }
  }
  // Both are return URLs the worker redirects to: the same checker, never the value in the message.
  for (const [variable, url] of [
    ["DEFAULT_RETURN_URL", defaultReturnUrl],
    ["ERROR_URL", errorUrl],
  ] as const) {
    const check = url !== undefined && returnOrigins !== undefined ? checkReturnUrl(url, returnOrigins) : undefined;
    if (check && !check.ok) {
      problems.push({
        variable,
        reason: `must pass the return-URL rules and be allowed by RETURN_ORIGINS (rejected: ${check.reason})`,
      });
    }
  }

  if (problems.length > 0) return { ok: false, error: new ConfigError(problems) };

  const zones = { us: parseZone(env, "us"), eu: parseZone(env, "eu") };
  return {
    ok: true,
    config: {
      ...(vars as Vars),
      zones,
      relayZones: ZONES.filter((z) => zones[z].callbackUrl !== undefined),
      adminToken: parseEntrySecret(env, "ADMIN_TOKEN"),
      linkSigningKey: parseEntrySecret(env, "LINK_SIGNING_KEY"),
      resultSigningKey: parseEntrySecret(env, "RESULT_SIGNING_KEY"),
      rivery: { us: riveryUs as RiveryZone, eu: riveryEu as RiveryZone },
      riveryValiditySeconds: riveryValiditySeconds as number,
      webhooks: parseWebhooks(env),
      defaultReturnUrl,
      errorUrl,
    },
  };
}

/** Returns a zone setting, or throws a ConfigError naming the variable to set. */
export function requireZoneSetting(zone: ZoneConfig, setting: ZoneSetting): string {
  const value = zone[setting];
  if (value !== undefined) return value;
  throw new ConfigError([zone.problems[setting] ?? { variable: setting, reason: "is not set" }]);
}
