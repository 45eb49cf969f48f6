import { ConfigError } from "../config/load";
import type { Zone } from "../config/types";
import type { FailureCode } from "../failures/codes";
import { signResult } from "../security/result.js";
import { PRODUCT } from "../version";
import { clearBinding } from "./binding";
import type { SessionLink } from "./connect-session";
import type { Deps } from "./deps";
import { allowedReturnTarget, type Redirect, type ReturnParams, withParams } from "./way-back";

/**
 * How the worker learned the outcome: `exchange` when the platform's API
 * answered the worker itself (exchange, start), `redirect` when it arrived
 * in a browser redirect (Peaka's completion, a provider's denial).
 */
export type Via = "exchange" | "redirect";

export interface FlowOutcome {
  readonly connectionId?: string | undefined;
  readonly status: "success" | "fail";
  /** A failure code, or a provider's own error for a denial. */
  readonly error?: FailureCode | string | undefined;
  readonly zone?: Zone | undefined;
  readonly via: Via;
  /** Parameters added beside the outcome (a provider's error_description). */
  readonly extra?: ReturnParams;
  /** The flow's binding, whose cookie the browser no longer needs. */
  readonly endsBinding?: string;
  /** The connect session, as the flow record keeps it: `sid`, `ref`, and a popup's way back. */
  readonly session?: SessionLink | undefined;
}

/** The issuer of results: the public origin the request came to, else the first listed one. */
function issuer(deps: Deps): string {
  const origin = deps.publicOrigin ?? deps.config.publicOrigins.values().next().value;
  if (origin === undefined) throw new ConfigError([{ variable: "PUBLIC_ORIGINS", reason: "is not set" }]);
  return origin;
}

/**
 * The way back for a flow the worker started: the return URL (checked
 * against RETURN_ORIGINS again, right before use) with the outcome, and,
 * with RESULT_SIGNING_KEY set, `result`: an HS256 JWT of the same outcome
 * for the partner's backend to verify (docs/result.md).
 */
export async function flowReturn(deps: Deps, returnUrl: string, outcome: FlowOutcome): Promise<Redirect> {
  const { config } = deps;
  const target = allowedReturnTarget(config, returnUrl, outcome.connectionId);
  const { connectionId, status, error, zone, via } = outcome;
  const { sessionId, reference, display } = outcome.session ?? {};
  const params: Record<string, string | undefined> = { connectionId, status, error, ...outcome.extra };
  const key = config.resultSigningKey;
  if (key.state === "invalid") throw new ConfigError([key.problem]);
  if (key.state === "set") {
    params.result = await signResult(
      {
        iss: issuer(deps),
        aud: target.origin,
        // signResult leaves out undefined claims.
        sub: connectionId,
        status,
        error,
        zone,
        via,
        sid: sessionId,
        ref: reference,
      },
      key.value,
      { now: deps.clock.now() },
    );
  }
  return {
    location: withParams(target, params).href,
    status: 303,
    ...(outcome.endsBinding ? { setCookies: [clearBinding(outcome.endsBinding)] } : {}),
    ...(display === "popup" && sessionId
      ? {
          popup: {
            targetOrigin: target.origin,
            message: { source: PRODUCT, sessionId, connectionId, status, error, result: params.result },
          },
        }
      : {}),
  };
}
