import type { Zone } from "../config/types";
import type { FailureCode } from "../failures/codes";
import type { PlatformName } from "./platform";

/** A connect session's status (docs/webhooks.md, the status API). */
export type SessionStatus = "pending" | "succeeded" | "failed" | "expired";

/**
 * A session's terminal outcome, as a webhook carries it. The core raises one
 * per session when it settles; the edge decides how it travels (the WEBHOOKS
 * queue). It never holds a code, state, token or credential.
 */
export interface SessionEvent {
  readonly type: "connection.succeeded" | "connection.failed";
  /** When the session settled (epoch ms). */
  readonly at: number;
  readonly data: {
    readonly sessionId: string;
    readonly connectionId?: string | undefined;
    readonly platform: PlatformName;
    readonly type: string;
    readonly zone: Zone;
    readonly status: Exclude<SessionStatus, "pending">;
    readonly error?: FailureCode | string | undefined;
    readonly reference?: string | undefined;
  };
}
