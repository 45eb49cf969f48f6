import { PlatformError } from "../../core/platform";

/**
 * One class per way a call to Peaka can fail; each knows its wire code.
 * Messages never quote the request, the response body or the key.
 */
export type PeakaFailureKind = "timeout" | "network" | "status" | "malformed";

export abstract class PeakaError extends PlatformError {
  abstract readonly kind: PeakaFailureKind;
  /**
   * Transient failures (the user may simply retry) versus answers Peaka gave
   * and will give again. Only a status failure has a platformStatus.
   */
  get code(): "peaka_unavailable" | "peaka_rejected" {
    const status = this.platformStatus ?? 0;
    return this.kind === "timeout" || this.kind === "network" || status >= 500 || status === 429
      ? "peaka_unavailable"
      : "peaka_rejected";
  }
  get platformStatus(): number | undefined {
    return this instanceof PeakaStatusError ? this.status : undefined;
  }
}

/** No answer within PEAKA_TIMEOUT_MS. */
export class PeakaTimeoutError extends PeakaError {
  override readonly name = "PeakaTimeoutError";
  readonly kind = "timeout";
  constructor(timeoutMs: number) {
    super(`Peaka did not answer within ${timeoutMs} ms`);
  }
}

/** The connection failed (DNS, reset, TLS). */
export class PeakaNetworkError extends PeakaError {
  override readonly name = "PeakaNetworkError";
  readonly kind = "network";
  constructor(cause: unknown) {
    super("Peaka could not be reached", { cause });
  }
}

/** Peaka answered with a status other than 2xx (redirects included: they are not followed). */
export class PeakaStatusError extends PeakaError {
  override readonly name = "PeakaStatusError";
  readonly kind = "status";
  // `declare`: the constructor sets it; a field declaration would only add bytes to the bundle.
  declare readonly status: number;
  constructor(status: number) {
    super(`Peaka answered ${status}`);
    this.status = status;
  }
}

/** A 2xx whose body is not the JSON shape the API documents. */
export class PeakaMalformedResponseError extends PeakaError {
  override readonly name = "PeakaMalformedResponseError";
  readonly kind = "malformed";
  constructor() {
    super("Peaka's answer did not have the expected shape");
  }
}
