import { PlatformError } from "../../core/platform";

/** The call that failed. */
export type RiveryStep = "create" | "credentials" | "connection";

/**
 * How a call to Rivery failed:
 * - `timeout`: no answer within the client's timeout;
 * - `network`: the connection failed (DNS, reset, TLS);
 * - `status`: a status other than 2xx (redirects are not followed);
 * - `invalid_param`: `POST /oauth2` answered 429 "invalid param" (a
 *   validity_duration outside 300-43200): a refusal, not a rate limit;
 * - `malformed`: a 2xx whose body is not the documented shape.
 */
export type RiveryFailure = "timeout" | "network" | "status" | "invalid_param" | "malformed";

/**
 * One class for every way a call to Rivery fails (one class keeps the
 * bundle small); `kind` and `status` say which, and `code` is the wire code.
 * The message never quotes the request, the answer's body (it may hold
 * credentials), the pull or the token.
 */
export class RiveryError extends PlatformError {
  override readonly name = "RiveryError";
  // `declare`: the constructor sets it; a field declaration would only add bytes to the bundle.
  declare readonly step: RiveryStep;
  declare readonly kind: RiveryFailure;
  declare readonly status: number | undefined;
  constructor(step: RiveryStep, kind: RiveryFailure, status?: number, cause?: unknown) {
    super(`Rivery ${step} call: ${kind}${status ? ` ${status}` : ""}`, { cause });
    this.step = step;
    this.kind = kind;
    this.status = status;
  }
  /** Transient failures (try again later) versus answers Rivery gave and will give again. */
  get code(): "rivery_unavailable" | "rivery_rejected" {
    const { kind, status = 0 } = this;
    return kind === "timeout" || kind === "network" || (kind === "status" && (status >= 500 || status === 429))
      ? "rivery_unavailable"
      : "rivery_rejected";
  }
  get platformStatus(): number | undefined {
    return this.status || undefined;
  }
}
