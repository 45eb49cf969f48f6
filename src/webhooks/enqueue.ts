import type { WebhookConfig } from "../config/types";
import type { SessionEvent } from "../core/events";
import { causeName, emitEvent } from "../observability/log";
import { webhookMessage } from "./message";

/**
 * What the edge wires into `deps.notify`: puts a settled session's webhook on
 * the WEBHOOKS queue after the response (`defer`), so the user's redirect
 * never waits on it. A failed send is an error line: that webhook is lost,
 * and the session's status API still has the outcome.
 */
export function enqueueWebhook(
  config: WebhookConfig,
  queue: Queue | undefined,
  defer: (task: string, work: Promise<unknown>) => void,
  event: SessionEvent,
): void {
  // An invalid configuration is on /healthz already.
  if (config.state !== "on") return;
  const message = webhookMessage(event);
  defer(
    "webhook",
    // A missing WEBHOOKS binding (an environment without it in wrangler.toml) fails here too, and is logged.
    Promise.resolve()
      .then(() => (queue as Queue).send(message, { contentType: "json" }))
      .catch((error: unknown) => {
        emitEvent("error", "webhook_not_enqueued", { webhookId: message.id, cause: causeName(error) });
      }),
  );
}
