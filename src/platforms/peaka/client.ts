import type * as z from "zod/mini";
import { type CallTarget, callJson } from "../../core/call";
import { PeakaMalformedResponseError, PeakaNetworkError, PeakaStatusError, PeakaTimeoutError } from "./errors";
import { PeakaConnection } from "./schemas";

/** Where and how to reach one zone's partner API. */
export interface PeakaTarget extends CallTarget {
  readonly projectId: string;
  readonly apiKey: string;
}

/**
 * POSTs JSON to the partner API (core/call.ts: only our own headers, no
 * redirect followed), and validates the answer before use.
 */
async function postJson<T>(target: PeakaTarget, path: string, body: unknown, schema: z.ZodMiniType<T>): Promise<T> {
  const answer = await callJson(target, target.apiKey, "POST", path, body, (timedOut, cause) =>
    // A connection that broke mid-answer is a network failure (retryable), not a malformed answer.
    timedOut ? new PeakaTimeoutError(target.timeoutMs) : new PeakaNetworkError(cause),
  );
  if (answer.status < 200 || answer.status > 299) throw new PeakaStatusError(answer.status);
  const parsed = schema.safeParse(answer.body);
  if (!parsed.success) throw new PeakaMalformedResponseError();
  return parsed.data;
}

/** `POST /connections/{projectId}/oauth2`: hands the provider's callback parameters to Peaka (guide 2.b.3). */
export function exchangeCallback(target: PeakaTarget, queryParameters: string): Promise<PeakaConnection> {
  return postJson(
    target,
    `connections/${encodeURIComponent(target.projectId)}/oauth2`,
    { queryParameters },
    PeakaConnection,
  );
}

export interface CreateConnectionBody {
  readonly name: string;
  readonly type: string;
  readonly connectionCallback?: string;
  readonly credential?: Readonly<Record<string, string>>;
}

/** `POST /connections/{projectId}`: creates a connection; OAuth types answer with the consent URL. */
export function createConnection(target: PeakaTarget, body: CreateConnectionBody): Promise<PeakaConnection> {
  return postJson(target, `connections/${encodeURIComponent(target.projectId)}`, body, PeakaConnection);
}
