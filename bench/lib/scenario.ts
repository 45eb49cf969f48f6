import { createHash, randomBytes } from "node:crypto";
import { Store } from "../../src/storage/store";
import { kvOverHttp } from "./kv-adapters";
import { type RunningWorker, SELF_ORIGIN } from "./workerd";
import { wranglerVars } from "./wrangler-toml";

/** What every server is asked in the relay runs: a realistic provider callback (Google-style code, opaque state, scope). */
export const RELAY_QUERY =
  "code=4%2F0AVG7fiQm8Xk2s7tJbV3nq5yZpL1cW9rD6eH0uA4oK2xS8vN3gB7jT1fR5mC9wE2&" +
  "state=Zk9xY2pXbTdQa0ZhR1JzVmxOd0VqZ0hiUTNtTA&" +
  "scope=https%3A%2F%2Fwww.googleapis.com%2Fauth%2Fanalytics.readonly";

export const CALLBACK_PATH = "/oauth2/mycallback";
export const COMPLETE_PATH = "/oauth2/complete";
export const PEAKA_CALLBACK = "https://peaka.studio/oauth2/callback";
export const EU_CALLBACK = "https://eu.peaka.studio/oauth2/callback";
export const RETURN_URL = "https://app.example.com/settings/connections";
export const PROJECT_ID = "proj_bench";
export const API_KEY = "bench-partner-key-7d1e";
/** Enables the server API (start); 32+ printable characters, as the config requires. */
export const ADMIN_TOKEN = "bench-admin-token-0123456789abcdef0123456789";
export const LINK_SIGNING_KEY = "bench-link-signing-key-0123456789abcdef012345";
/** Webhooks on in the ops run: every settled session sends one queue message (nothing consumes it there). */
export const WEBHOOK_VARS = {
  WEBHOOK_URL: "http://127.0.0.1:9/webhooks",
  WEBHOOK_SECRET: "whsec_YmVuY2gtd2ViaG9vay1zZWNyZXQtMDEyMzQ1Njc4OWFi",
} as const;
/** The queue producer bindings the worker declares in wrangler.toml. */
export const QUEUE_BINDINGS = ["WEBHOOKS", "WEBHOOKS_DLQ"] as const;
/** The id the upstream stand-in answers with, so the exchange finds its state record's way back. */
export const CONNECTION_ID = "conn_bench";

/**
 * wrangler.toml's [vars] plus what a partner sets for a relay deployment.
 * BROWSER_BINDING=off: the relay runs compare the worker's relay with a bare
 * Worker, Express and nginx doing the same unbound 307 (and with older
 * commits, which had no binding); the bound relay is measured on its own
 * (boundRelayVars).
 */
export function relayVars(extra: Readonly<Record<string, string>> = {}): Record<string, string> {
  return {
    ...wranglerVars(),
    PEAKA_PROJECT_ID: PROJECT_ID,
    PEAKA_API_KEY: API_KEY,
    RETURN_ORIGINS: new URL(RETURN_URL).origin,
    PUBLIC_ORIGINS: SELF_ORIGIN,
    BROWSER_BINDING: "off",
    ...extra,
  };
}

/** The default deployment: every relay checks the browser binding against the state record. */
export function boundRelayVars(): Record<string, string> {
  return relayVars({ BROWSER_BINDING: "required" });
}

/** Option 2.b.3: the worker POSTs the callback to the (stand-in) partner API. */
export function exchangeVars(upstreamUrl: string): Record<string, string> {
  return relayVars({ CALLBACK_MODE: "exchange", PEAKA_US_API_URL: `${upstreamUrl}/api/v1` });
}

/** The relay target that runs with the binding on. */
export const BOUND_RELAY = "worker, binding required";

/**
 * A bound session for RELAY_QUERY's state, as the startUrl leaves it: the
 * state record with the browser's hash. Resolves to the request headers the
 * bound browser sends (its cookie).
 */
export async function seedBoundRelay(worker: RunningWorker): Promise<Record<string, string>> {
  const token = randomBytes(32).toString("base64url");
  const hash = createHash("sha256").update(token).digest("hex");
  const state = new URLSearchParams(RELAY_QUERY).get("state") ?? "";
  await new Store(kvOverHttp(worker), 3600).putState(state, {
    connectionId: CONNECTION_ID,
    returnUrl: RETURN_URL,
    zone: "us",
    browser: hash,
  });
  return { cookie: `__Host-pce-${hash.slice(0, 16)}=${token}` };
}
