import type { CallbackMode } from "../../config/types";
import { AppFailure, type FieldProblem } from "../../failures/failure";
import type { CreateConnectionBody } from "./client";

/** This worker's own addresses, as an OAuth provider and Peaka must see them. */
export interface WorkerUrls {
  /** CALLBACK_PATH: the OAuth app's redirect URI (relay, or exchange's own callback). */
  readonly callback: string;
  /** COMPLETE_PATH: the `connectionCallback` Peaka redirects to when it is done. */
  readonly complete: string;
}

/** The worker's callbacks on its public origin, so each custom domain hands out its own. */
export function workerUrls(publicOrigin: string, paths: { callbackPath: string; completePath: string }): WorkerUrls {
  return {
    callback: new URL(paths.callbackPath, publicOrigin).href,
    complete: new URL(paths.completePath, publicOrigin).href,
  };
}

/**
 * What a credential is, by its keys:
 * - `none`: no credential, Peaka's own OAuth app (guide option 2.a);
 * - `oauth_app`: exactly clientId and clientSecret, the partner's OAuth app (2.b);
 * - `token`: anything else (a Stripe token, or tokens the partner obtained
 *   itself, option 1): passed to Peaka unchanged, no consent step.
 */
export type CredentialKind = "none" | "oauth_app" | "token";

const OAUTH_APP_KEYS: ReadonlySet<string> = new Set(["clientId", "clientSecret"]);

export function credentialKind(credential: Readonly<Record<string, string>> | undefined): CredentialKind {
  if (credential === undefined) return "none";
  const keys = Object.keys(credential);
  return keys.length > 0 && keys.every((key) => OAUTH_APP_KEYS.has(key)) ? "oauth_app" : "token";
}

function rejectFields(fields: FieldProblem[]): never {
  throw new AppFailure("invalid_request", { detail: `Check ${fields.map((f) => f.field).join(", ")}.`, fields });
}

/**
 * The create-connection body for Peaka. The callback fields come from this
 * worker's mode and host, never from the caller:
 * - relay (2.a, 2.b.1, 2.b.2): `connectionCallback` = the complete URL, with
 *   the caller's clientId/clientSecret when given;
 * - exchange (2.b.3): `credential.redirectUrl` = the callback URL beside the
 *   caller's clientId/clientSecret, which this mode requires;
 * - token credentials: the credential alone, unchanged, in either mode.
 */
export function peakaCreateBody(
  input: { type: string; name: string; credential?: Readonly<Record<string, string>> | undefined },
  mode: CallbackMode,
  urls: WorkerUrls,
): CreateConnectionBody {
  const { type, name, credential } = input;
  const problems: FieldProblem[] = [];
  if (credential && "redirectUrl" in credential) {
    problems.push({
      field: "credential.redirectUrl",
      problem: "is set by this service from CALLBACK_PATH; leave it out",
    });
  }
  if (credential && Object.keys(credential).length === 0) {
    problems.push({ field: "credential", problem: "must not be empty; leave it out to use Peaka's OAuth app" });
  }
  const kind = credentialKind(credential);
  if (kind === "oauth_app") {
    for (const key of OAUTH_APP_KEYS) {
      if (!credential?.[key]) problems.push({ field: `credential.${key}`, problem: "is required with the other" });
    }
  }
  if (mode === "exchange" && kind === "none") {
    for (const key of OAUTH_APP_KEYS) {
      problems.push({
        field: `credential.${key}`,
        problem: "is required in exchange mode (CALLBACK_MODE=exchange): the OAuth app is yours",
      });
    }
  }
  if (problems.length > 0) rejectFields(problems);

  if (kind === "token") return { name, type, credential: { ...credential } };
  if (mode === "exchange") return { name, type, credential: { ...credential, redirectUrl: urls.callback } };
  return { name, type, connectionCallback: urls.complete, ...(credential ? { credential: { ...credential } } : {}) };
}
