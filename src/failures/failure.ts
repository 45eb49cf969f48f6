import { FAILURES, type FailureCode } from "./codes";

/** One rejected input field of an API request: its path (e.g. `credential.clientId`) and the rule it broke. */
export interface FieldProblem {
  readonly field: string;
  readonly problem: string;
}

export interface FailureOptions {
  /** Shown and logged; a connection id is not a secret. */
  readonly connectionId?: string | undefined;
  /** Safe, user-facing detail appended to the message (never a secret or raw input). */
  readonly detail?: string | undefined;
  /** The underlying error, for the log line's `cause` (its name only). */
  readonly cause?: unknown;
  /** Extra response headers, e.g. Allow or Retry-After. */
  readonly headers?: Readonly<Record<string, string>>;
  /** For API clients: which input fields were rejected (names and rules, never the values). */
  readonly fields?: readonly FieldProblem[];
}

/** A failure the app knows how to present. Thrown from anywhere below the routes. */
export class AppFailure extends Error {
  override readonly name = "AppFailure";
  // `declare`: the constructor sets it; a field declaration would only add bytes to the bundle.
  declare readonly code: FailureCode;
  declare readonly status: number;
  declare readonly connectionId: string | undefined;
  declare readonly detail: string | undefined;
  declare readonly headers: Readonly<Record<string, string>>;
  declare readonly fields: readonly FieldProblem[] | undefined;
  constructor(code: FailureCode, options: FailureOptions = {}) {
    super(code, { cause: options.cause });
    this.code = code;
    this.status = FAILURES[code].status;
    this.connectionId = options.connectionId;
    this.detail = options.detail;
    this.headers = options.headers ?? {};
    this.fields = options.fields;
  }
}
