import type { Clock } from "../clock";
import type { WebhookConfig } from "../config/types";
import { causeName, emitEvent } from "../observability/log";
import { readWebhookMessage, type WebhookMessage } from "./message";
import { signWebhook } from "./sign";

/**
 * The queue's `max_retries` in wrangler.toml: past it the consumer dead-letters
 * the message itself, so the webhook_dead_lettered line is certain
 * (test/webhooks/consumer.test.ts reads wrangler.toml to keep the two equal).
 * The queue's own dead_letter_queue stays as the backstop.
 */
export const MAX_RETRIES = 8;
/** The longest delay a queue retry accepts (12 hours). */
export const MAX_DELAY_SECONDS = 43_200;
/** How long one delivery may take: the partner should answer at once and work later. */
export const DELIVERY_TIMEOUT_MS = 10_000;

export interface QueueRuntime {
  readonly clock: Clock;
  readonly fetch: typeof fetch;
  readonly deadLetters: Queue | undefined;
}

/** The delay before the next attempt: base, 2·base, 4·base … capped at the queue's limit. */
export function retryDelaySeconds(baseSeconds: number, attempts: number): number {
  return Math.min(baseSeconds * 2 ** Math.max(0, attempts - 1), MAX_DELAY_SECONDS);
}

/** 408, 429 and 5xx may pass with time; any other non-2xx will not. */
function retryable(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

type Delivery = { readonly status: number } | { readonly cause: string };

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
    return { status: response.status } satisfies Delivery;
  } catch (error) {
    // A timeout (TimeoutError) or the network: both pass with time.
    return { cause: causeName(error) } satisfies Delivery;
  }
}

/** Sends to the dead-letter queue; false when that failed (the caller then leaves the message to the queue). */
async function deadLetter(runtime: QueueRuntime, message: WebhookMessage): Promise<boolean> {
  if (!runtime.deadLetters) return false;
  try {
    await runtime.deadLetters.send(message, { contentType: "json" });
    return true;
  } catch {
    return false;
  }
}

async function handle(config: WebhookConfig, runtime: QueueRuntime, msg: Message): Promise<void> {
  const message = readWebhookMessage(msg.body);
  // Log fields: the id, statuses and counts only; never the body (it holds the partner's reference).
  const fields = { webhookId: message?.id ?? "unknown", attempts: msg.attempts };
  if (!message) {
    emitEvent("error", "webhook_rejected", { ...fields, cause: "MalformedMessage" });
    msg.ack();
    return;
  }
  const delivery: Delivery = config.state === "on" ? await post(config, runtime, message) : { cause: "ConfigError" };
  const outcome: Record<string, string | number> =
    "status" in delivery ? { status: delivery.status } : { cause: delivery.cause };
  if ("status" in delivery && delivery.status >= 200 && delivery.status < 300) {
    emitEvent("info", "webhook_delivered", { ...fields, ...outcome });
    msg.ack();
    return;
  }
  if ("status" in delivery && !retryable(delivery.status)) {
    // The receiver refused this message: sending it again cannot help.
    emitEvent("error", "webhook_rejected", { ...fields, ...outcome });
    if (await deadLetter(runtime, message)) msg.ack();
    else msg.retry();
    return;
  }
  if (msg.attempts > MAX_RETRIES) {
    emitEvent("error", "webhook_dead_lettered", { ...fields, ...outcome });
    // Should the send fail, a retry past max_retries lands in the queue's own dead_letter_queue.
    if (await deadLetter(runtime, message)) msg.ack();
    else msg.retry();
    return;
  }
  const delaySeconds = retryDelaySeconds(config.state === "on" ? config.retryBaseSeconds : 10, msg.attempts);
  emitEvent("warn", "webhook_retry", { ...fields, ...outcome, delaySeconds });
  msg.retry({ delaySeconds });
}

/** The worker's `queue` handler for the WEBHOOKS queue: one POST per message, all at once. */
export async function deliverWebhooks(batch: MessageBatch, config: WebhookConfig, runtime: QueueRuntime) {
  await Promise.all(batch.messages.map((msg) => handle(config, runtime, msg)));
}
