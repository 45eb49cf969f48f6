import { PlatformError } from "../../core/platform";

/**
 * One class per way a call to Rivery can fail; each knows its wire code.
 * Messages never quote the request, the answer's body (it may hold
 * credentials), the pull or the token.
 */
export type RiveryStep = "create" | "credentials" | "connection";

export abstract class RiveryError extends PlatformError {
  abstract readonly kind: "timeout" | "network" | "status" | "malformed" | "invalid_param";
  get code(): "rivery_unavailable" | "rivery_rejected" {
    return failureCodeFor(this);
  }
  get platformStatus(): number | undefined {
    return this instanceof RiveryStatusError ? this.status : this.kind === "invalid_param" ? 429 : undefined;
  }
}

/** No answer within the client's timeout. */
export class RiveryTimeoutError extends RiveryError {
  override readonly name = "RiveryTimeoutError";
  readonly kind = "timeout";
  constructor(step: RiveryStep, timeoutMs: number) {
    super(`Rivery did not answer the ${step} call within ${timeoutMs} ms`);
  }
}

/** The connection failed (DNS, reset, TLS). */
export class RiveryNetworkError extends RiveryError {
  override readonly name = "RiveryNetworkError";
  readonly kind = "network";
  constructor(step: RiveryStep, cause: unknown) {
    super(`Rivery could not be reached for the ${step} call`, { cause });
  }
}

/** Rivery answered with a status other than 2xx (redirects are not followed). */
export class RiveryStatusError extends RiveryError {
  override readonly name = "RiveryStatusError";
  readonly kind = "status";
  readonly status: number;
  constructor(step: RiveryStep, status: number) {
    super(`Rivery answered ${status} to the ${step} call`);
    this.status = status;
  }
}

/**
 * `POST /oauth2` answers 429 "invalid param" for a validity_duration outside
 * 300-43200: a refusal of our request, not a rate limit, so never retried.
 */
export class RiveryInvalidParamError extends RiveryError {
  override readonly name = "RiveryInvalidParamError";
  readonly kind = "invalid_param";
  constructor() {
    super("Rivery refused the pull request's parameters (429 invalid param)");
  }
}

/** A 2xx whose body is not the shape the API documents. */
export class RiveryMalformedResponseError extends RiveryError {
  override readonly name = "RiveryMalformedResponseError";
  readonly kind = "malformed";
  constructor(step: RiveryStep) {
    super(`Rivery's answer to the ${step} call did not have the expected shape`);
  }
}

/** Transient failures (try again later) versus answers Rivery gave and will give again. */
export function failureCodeFor(error: RiveryError): "rivery_unavailable" | "rivery_rejected" {
  if (error.kind === "timeout" || error.kind === "network") return "rivery_unavailable";
  if (error instanceof RiveryStatusError && (error.status >= 500 || error.status === 429)) return "rivery_unavailable";
  return "rivery_rejected";
}
