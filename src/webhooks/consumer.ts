import type { Clock } from "../clock";
import type { WebhookConfig } from "../config/types";
import { causeName, emitEvent } from "../observability/log";
import type { WebhookMessage } from "./message";
import { signWebhook } from "./sign";

/**
 * The queue's `max_retries` in wrangler.toml: past it the consumer dead-letters
 * the message itself, so the webhook_dead_lettered line is certain
 * (test/webhooks/consumer.test.ts reads wrangler.toml to keep the two equal).
 * The queue's own dead_letter_queue stays as the backstop.
 */
export const MAX_RETRIES = 8;
/** How long one delivery may take: the partner should answer at once and work later. */
export const DELIVERY_TIMEOUT_MS = 10_000;

export interface QueueRuntime {
  readonly clock: Clock;
  readonly fetch: typeof fetch;
  readonly deadLetters: Queue | undefined;
}

/**
 * The delay before the next attempt: base, 2·base, 4·base … With the base at
 * most 300 (config/schemas.ts) the longest, 128·base after attempt 8, stays
 * under the 12 hours a queue retry accepts.
 */
export function retryDelaySeconds(baseSeconds: number, attempts: number): number {
  return baseSeconds * 2 ** (attempts - 1);
}

/** 408, 429 and 5xx may pass with time; any other non-2xx will not. */
function retryable(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/** The receiver's HTTP status, or the class name of why there was none (a timeout, the network). */
async function post(config: WebhookConfig & { state: "on" }, runtime: QueueRuntime, message: WebhookMessage) {
  const timestamp = Math.floor(runtime.clock.now() / 1000);
  try {
    const response = await runtime.fetch(config.url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "webhook-id": message.id,
        "webhook-timestamp": String(timestamp),
        "webhook-signature": await signWebhook(config.secrets, message.id, timestamp, message.body),
      },
      body: message.body,
      // Standard Webhooks: a redirect is a failed delivery, never followed.
      redirect: "manual",
      signal: runtime.clock.timeout(DELIVERY_TIMEOUT_MS),
    });
    await response.body?.cancel();
    return response.status;
  } catch (error) {
    return causeName(error);
  }
}

async function handle(config: WebhookConfig | undefined, runtime: QueueRuntime, msg: Message): Promise<void> {
  // Only the worker writes this queue (replays republish its bodies unchanged: docs/webhooks.md).
  const message = msg.body as WebhookMessage;
  const result = config?.state === "on" ? await post(config, runtime, message) : "ConfigError";
  if (typeof result === "number" && result >= 200 && result < 300) return msg.ack();
  // The receiver refused this message: sending it again cannot help.
  const refused = typeof result === "number" && !retryable(result);
  if (!refused && msg.attempts <= MAX_RETRIES) {
    // Retries show in the queue's metrics; the line that alerts is the last one, webhook_dead_lettered.
    return msg.retry({
      delaySeconds: retryDelaySeconds(config?.state === "on" ? config.retryBaseSeconds : 10, msg.attempts),
    });
  }
  // The id, status or cause and the attempt count only: never the body (it holds the partner's reference).
  emitEvent("error", refused ? "webhook_rejected" : "webhook_dead_lettered", {
    webhookId: message.id,
    attempts: msg.attempts,
    [typeof result === "number" ? "status" : "cause"]: result,
  } as Record<string, string | number>);
  try {
    // Without the binding this throws too: either way a retry lands it in the queue's own dead_letter_queue in the end.
    await (runtime.deadLetters as Queue).send(msg.body, { contentType: "json" });
    msg.ack();
  } catch {
    msg.retry();
  }
}

/**
 * The worker's `queue` handler for the WEBHOOKS queue: one POST per message,
 * all at once. Without a valid configuration (undefined: the worker's config
 * is broken) every message is retried, then dead-lettered.
 */
export async function deliverWebhooks(batch: MessageBatch, config: WebhookConfig | undefined, runtime: QueueRuntime) {
  await Promise.all(batch.messages.map((msg) => handle(config, runtime, msg)));
}
