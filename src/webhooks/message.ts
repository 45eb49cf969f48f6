import type { SessionEvent } from "../core/events";

/**
 * What travels on the WEBHOOKS queue: the webhook's id and its finished
 * body, so every retry sends the same bytes under the same id and only the
 * timestamp and signature are made per attempt (webhooks/consumer.ts).
 */
export interface WebhookMessage {
  /** `webhook-id`: one per session, so a receiver de-duplicates redeliveries on it. */
  readonly id: string;
  /** The JSON body, `{type, timestamp, data}` (docs/webhooks.md). */
  readonly body: string;
}

/**
 * A settled session's event as a Standard Webhooks message. Fields are
 * copied one by one: whatever else an event may carry later never leaks into
 * a webhook. No code, state, token or credential is among them.
 */
export function webhookMessage(event: SessionEvent): WebhookMessage {
  const { sessionId, connectionId, platform, type, zone, status, error, reference } = event.data;
  // JSON.stringify leaves out error and reference when undefined; connectionId is always there, null when none.
  const data = { sessionId, connectionId: connectionId ?? null, platform, type, zone, status, error, reference };
  const body = JSON.stringify({ type: event.type, timestamp: new Date(event.at).toISOString(), data });
  return { id: `msg_${sessionId}`, body };
}
