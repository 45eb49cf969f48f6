import type * as z from "zod/mini";
import type { Clock } from "../../clock";
import { PeakaMalformedResponseError, PeakaNetworkError, PeakaStatusError, PeakaTimeoutError } from "./errors";
import { PeakaConnection } from "./schemas";

/** Where and how to reach one zone's partner API. */
export interface PeakaTarget {
  readonly apiUrl: string;
  readonly projectId: string;
  readonly apiKey: string;
  readonly timeoutMs: number;
  /** Injected, so tests assert the exact request and fire the timeout without waiting for it. */
  readonly fetch: typeof fetch;
  readonly clock: Clock;
}

/** Largest answer read from Peaka: a Connection object is well under 1 KiB. */
const MAX_RESPONSE_BYTES = 64 * 1024;

/**
 * POSTs JSON to the partner API. Only our own headers are sent (no inbound
 * header is ever forwarded), redirects are not followed (a redirect would
 * carry the bearer key elsewhere), and the answer is validated before use.
 */
async function postJson<T>(target: PeakaTarget, path: string, body: unknown, schema: z.ZodMiniType<T>): Promise<T> {
  const url = new URL(`${target.apiUrl}/${path}`);
  let response: Response;
  try {
    response = await target.fetch(url, {
      method: "POST",
      headers: {
        Authorization: `Bearer ${target.apiKey}`,
        "Content-Type": "application/json",
        Accept: "application/json",
      },
      body: JSON.stringify(body),
      redirect: "manual",
      signal: target.clock.timeout(target.timeoutMs),
    });
  } catch (cause) {
    if (cause instanceof Error && (cause.name === "TimeoutError" || cause.name === "AbortError")) {
      throw new PeakaTimeoutError(target.timeoutMs);
    }
    throw new PeakaNetworkError(cause);
  }
  if (response.status < 200 || response.status > 299) {
    await response.body?.cancel();
    throw new PeakaStatusError(response.status);
  }
  let text: string;
  try {
    text = await response.text();
  } catch (cause) {
    if (cause instanceof Error && (cause.name === "TimeoutError" || cause.name === "AbortError")) {
      throw new PeakaTimeoutError(target.timeoutMs);
    }
    // The connection broke mid-answer: a network failure (retryable), not a malformed answer.
    throw new PeakaNetworkError(cause);
  }
  if (text.length > MAX_RESPONSE_BYTES) throw new PeakaMalformedResponseError();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new PeakaMalformedResponseError();
  }
  const parsed = schema.safeParse(json);
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
