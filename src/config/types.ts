import type { OriginAllowList } from "../security/return-url";

export const ZONES = ["us", "eu"] as const;
export type Zone = (typeof ZONES)[number];

export type CallbackMode = "relay" | "exchange";

/**
 * A zone's settings. Fields a zone may legitimately lack (the EU callback has
 * no default, keys are secrets set per deployment) are optional; asking for a
 * missing one through `requireZoneSetting` raises a ConfigError that names the
 * variable, so only the requests that need it fail.
 */
export interface ZoneConfig {
  readonly zone: Zone;
  readonly apiUrl?: string;
  readonly callbackUrl?: string;
  readonly projectId?: string;
  readonly apiKey?: string;
  /** For each setting that is missing or invalid, the variable(s) to set. */
  readonly problems: Readonly<Partial<Record<ZoneSetting, ConfigProblem>>>;
}

export type ZoneSetting = "apiUrl" | "callbackUrl" | "projectId" | "apiKey";

export interface ConfigProblem {
  readonly variable: string;
  readonly reason: string;
}

/**
 * A secret that switches an entry point on (ADMIN_TOKEN, LINK_SIGNING_KEY,
 * RESULT_SIGNING_KEY). Unset disables only that entry point; an invalid
 * value fails only the requests that need it, naming the variable.
 *
 * `previous` is `<NAME>_PREVIOUS` during a rotation (docs/deploy.md): values
 * the worker checks are accepted under either key. An invalid one is left out
 * and reported (`previousProblem`), so a typo in the old key never takes the
 * new one down.
 */
export type EntrySecret =
  | { readonly state: "unset" }
  | {
      readonly state: "set";
      readonly value: string;
      readonly previous?: string | undefined;
      readonly previousProblem?: ConfigProblem | undefined;
    }
  | { readonly state: "invalid"; readonly problem: ConfigProblem };

/** The secrets that may have a second, `<NAME>_PREVIOUS` value during a rotation. */
export type RotatedSecret = "ADMIN_TOKEN" | "LINK_SIGNING_KEY" | "RESULT_SIGNING_KEY";

/** One zone's Rivery API: the base URL always, the token when one is set (RIVERY_<ZONE>_API_TOKEN, else RIVERY_API_TOKEN). */
export interface RiveryZone {
  readonly apiUrl: string;
  readonly token?: string;
  /** Why the token is missing or invalid: Rivery starts in this zone answer config_invalid naming it. */
  readonly problem?: ConfigProblem;
}

/**
 * Webhooks (docs/webhooks.md): on when WEBHOOK_URL and WEBHOOK_SECRET are
 * both set and valid; off when neither is; otherwise invalid, and healthz
 * names the variables while flows go on without webhooks.
 */
export type WebhookConfig =
  | { readonly state: "off" }
  | {
      readonly state: "on";
      readonly url: string;
      /** Base64 keys (whsec_ stripped): the current one, then WEBHOOK_SECRET_PREVIOUS during a rotation. */
      readonly secrets: readonly string[];
      readonly retryBaseSeconds: number;
    }
  | { readonly state: "invalid"; readonly problems: readonly ConfigProblem[] };

export interface Config {
  readonly defaultZone: Zone;
  readonly zones: Readonly<Record<Zone, ZoneConfig>>;
  /** Zones with a usable callback URL: with only one, the relay needs no KV read. */
  readonly relayZones: readonly Zone[];
  readonly zoneByHost: ReadonlyMap<string, Zone>;
  readonly mode: CallbackMode;
  readonly callbackPath: string;
  readonly completePath: string;
  readonly returnOrigins: OriginAllowList;
  readonly defaultReturnUrl?: string;
  readonly errorUrl?: string;
  readonly recordTtlSeconds: number;
  /** SESSION_TTL_SECONDS: how long a session record is kept after its last write; >= recordTtlSeconds. */
  readonly sessionTtlSeconds: number;
  readonly peakaTimeoutMs: number;
  /** Bearer token of the server API. */
  readonly adminToken: EntrySecret;
  /** HMAC key of signed start links. */
  readonly linkSigningKey: EntrySecret;
  /** HMAC key of the signed `result` on return URLs; unset, redirects carry no `result`. */
  readonly resultSigningKey: EntrySecret;
  /**
   * PUBLIC_ORIGINS: the origins this deployment answers on. Every URL the
   * worker builds for itself comes from the one matching the request, never
   * from an unlisted Host header. Empty: nothing can start (config_invalid).
   */
  readonly publicOrigins: ReadonlySet<string>;
  /** BROWSER_BINDING: `required` binds every flow to the browser that started it. */
  readonly browserBinding: "required" | "off";
  /** Rivery's API per zone (docs/rivery.md); Peaka flows never read it. */
  readonly rivery: Readonly<Record<Zone, RiveryZone>>;
  /** RIVERY_VALIDITY_SECONDS: the `validity_duration` of a Rivery pull, and the session's deadline. */
  readonly riveryValiditySeconds: number;
  readonly webhooks: WebhookConfig;
}
