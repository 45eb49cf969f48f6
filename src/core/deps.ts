import type { Clock } from "../clock";
import type { Config } from "../config/types";
import type { RequestLog } from "../observability/log";
import type { Store } from "../storage/store";
import type { SessionEvent } from "./events";

/**
 * Everything the core and the platform adapters need for one request, as
 * plain values: no Hono context and no Request, so every function below the
 * edge can be called from a unit test with a hand-made `Deps`. The edge
 * builds one per request (edge/context.ts).
 */
export interface Deps {
  readonly config: Config;
  /** One per request. */
  readonly store: Store;
  /** This request's log line, filled in as the flow goes. */
  readonly log: RequestLog;
  readonly clock: Clock;
  /**
   * The PUBLIC_ORIGINS entry the request came to, e.g. https://connect.example.com;
   * undefined on any other host (core/binding.ts `requirePublicOrigin`).
   */
  readonly publicOrigin: string | undefined;
  /** A request cookie by name. */
  readonly cookie: (name: string) => string | undefined;
  /** The host the request came to (with any port), for ZONE_BY_HOST. */
  readonly host: string;
  /** Outbound HTTP to the platforms' APIs. */
  readonly fetch: typeof fetch;
  /** Runs bookkeeping after the response is sent: the user never waits on it, and its failure is only logged. */
  readonly defer: (task: string, work: Promise<unknown>) => void;
  /** Hands a settled session's event on for delivery (webhooks); never throws, never waits. */
  readonly notify: (event: SessionEvent) => void;
}
