import type { WebhookConfig } from "../config/types";
import type { SessionEvent } from "../core/events";
import { webhookMessage } from "./message";

/**
 * What the edge wires into `deps.notify`: puts a settled session's webhook on
 * the WEBHOOKS queue after the response (`defer`), so the user's redirect
 * never waits on it. A failed send, a missing WEBHOOKS binding included, is
 * defer's error line `background_task_failed` with task `webhook`:
 * that webhook is lost, and the session's status API still has the outcome.
 * An invalid configuration sends nothing: /healthz names it.
 */
export function enqueueWebhook(
  config: WebhookConfig,
  queue: Queue | undefined,
  defer: (task: string, work: Promise<unknown>) => void,
  event: SessionEvent,
): void {
  if (config.state === "on") {
    defer(
      "webhook",
      Promise.resolve().then(() => (queue as Queue).send(webhookMessage(event), { contentType: "json" })),
    );
  }
}
