/// <reference types="vite/client" />
import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { HttpResponse, http } from "msw";
import { Webhook } from "standardwebhooks";
import { describe, expect, it, vi } from "vitest";
import worker, { type Env } from "../../src/index";
import { MAX_RETRIES, retryDelaySeconds } from "../../src/webhooks/consumer";
import { type WebhookMessage, webhookMessage } from "../../src/webhooks/message";
import { captureLogs } from "../helpers/logs";
import { peaka as network } from "../helpers/peaka";
import { testEnv, timingOutWorker } from "../helpers/worker";
import { PREVIOUS, RECEIVER, REFERENCE, recordingQueue, SECRET, sessionEvent, WEBHOOK_ENV } from "./fixtures";

const WRANGLER_TOML = Object.values(
  import.meta.glob<string>("../../wrangler.toml", { query: "?raw", import: "default", eager: true }),
)[0] as string;

const logs = captureLogs();

interface Received {
  headers: Record<string, string>;
  body: string;
}

/** The partner's endpoint (MSW at the fetch boundary): answers in turn from `answers`, recording each request. */
function receiver(...answers: (() => Response | Promise<Response>)[]): Received[] {
  const seen: Received[] = [];
  network.use(
    http.post(RECEIVER, async ({ request }) => {
      seen.push({ headers: Object.fromEntries(request.headers), body: await request.text() });
      const answer = answers[Math.min(seen.length, answers.length) - 1];
      return answer ? answer() : new HttpResponse(null, { status: 204 });
    }),
  );
  return seen;
}

const status = (code: number) => () => new HttpResponse(code === 204 ? null : "answer", { status: code });

/** Runs the worker's queue handler over one message at `attempts`, returning the queue's verdict. */
async function consume(
  message: WebhookMessage | unknown,
  { attempts = 1, env = {}, handler = worker }: { attempts?: number; env?: Partial<Env>; handler?: typeof worker } = {},
) {
  const dlq = recordingQueue();
  const batch = createMessageBatch("peaka-connect-webhooks", [
    { id: "queue-msg-1", timestamp: new Date(), attempts, body: message },
  ]);
  // getQueueResult (pool 0.15.1) reports a retry without its delaySeconds: the spy keeps them.
  const retry = vi.spyOn(batch.messages[0] as Message, "retry");
  const ctx = createExecutionContext();
  await handler.queue(batch, testEnv({ ...WEBHOOK_ENV, WEBHOOKS_DLQ: dlq, ...env }), ctx);
  const queued = await getQueueResult(batch, ctx);
  const retryMessages = queued.retryMessages.map(({ msgId }: { msgId: string }) => ({
    msgId,
    delaySeconds: retry.mock.calls[0]?.[0]?.delaySeconds,
  }));
  return { result: { explicitAcks: queued.explicitAcks as string[], retryMessages }, deadLetters: dlq.sent };
}

const message = webhookMessage(sessionEvent());

describe("the webhook consumer", () => {
  it("POSTs the Standard Webhooks request and acks a 2xx", async () => {
    const seen = receiver(status(204));
    const { result, deadLetters } = await consume(message);
    expect(result.explicitAcks).toEqual(["queue-msg-1"]);
    expect(result.retryMessages).toEqual([]);
    expect(deadLetters).toEqual([]);
    expect(seen).toHaveLength(1);
    const [request] = seen as [Received];
    expect(request.body).toBe(message.body);
    expect(request.headers["content-type"]).toBe("application/json");
    expect(request.headers["webhook-id"]).toBe("msg_cs_AAAAAAAAAAAAAAAAAAAAAAAA");
    expect(Math.abs(Number(request.headers["webhook-timestamp"]) - Date.now() / 1000)).toBeLessThan(5);
    expect(new Webhook(SECRET).verify(request.body, request.headers)).toEqual(JSON.parse(message.body));
    // Only trouble is logged: a delivery writes no line, so nothing can leak from one.
    expect(logs.lines).toEqual([]);
  });

  it("signs with both secrets during a rotation", async () => {
    const seen = receiver(status(200));
    await consume(message, { env: { WEBHOOK_SECRET_PREVIOUS: PREVIOUS } });
    const [request] = seen as [Received];
    expect(request.headers["webhook-signature"]?.split(" ")).toHaveLength(2);
    expect(new Webhook(SECRET).verify(request.body, request.headers)).toBeTruthy();
    expect(new Webhook(PREVIOUS).verify(request.body, request.headers)).toBeTruthy();
    expect(logs.lines).toEqual([]);
  });

  it.each([
    ["a 500", status(500), { status: 500 }],
    ["a 503", status(503), { status: 503 }],
    ["a 429 (a failure, not a success)", status(429), { status: 429 }],
    ["a 408", status(408), { status: 408 }],
    ["a network error", () => HttpResponse.error(), { cause: "TypeError" }],
  ])("retries %s with backoff from WEBHOOK_RETRY_BASE_SECONDS", async (_name, answer, outcome) => {
    receiver(answer);
    const { result, deadLetters } = await consume(message, { attempts: 3, env: { WEBHOOK_RETRY_BASE_SECONDS: "7" } });
    expect(result.explicitAcks).toEqual([]);
    // attempts 3: base · 2^2
    expect(result.retryMessages).toEqual([{ msgId: "queue-msg-1", delaySeconds: 28 }]);
    expect(deadLetters).toEqual([]);
    expect(logs.json().filter((l) => l.level === "error")).toEqual([]);
    // The same failure on the last attempt dead-letters it, and the error line says what failed.
    receiver(answer);
    const last = await consume(message, { attempts: MAX_RETRIES + 1 });
    expect(last.deadLetters).toEqual([message]);
    expect(logs.json().find((l) => l.msg === "webhook_dead_lettered")).toEqual({
      level: "error",
      msg: "webhook_dead_lettered",
      webhookId: message.id,
      attempts: MAX_RETRIES + 1,
      ...outcome,
    });
    logs.expectAbsent(REFERENCE, SECRET.slice(6), message.body);
  });

  it("retries a receiver that does not answer in time (the injected clock's deadline)", async () => {
    const { worker: timing, asked, expire } = timingOutWorker();
    receiver(async () => {
      expire();
      return new HttpResponse(null, { status: 204 });
    });
    const { result } = await consume(message, { handler: timing as typeof worker });
    expect(asked).toEqual([10_000]);
    expect(result.explicitAcks).toEqual([]);
    expect(result.retryMessages).toEqual([{ msgId: "queue-msg-1", delaySeconds: 10 }]);
    // On the last attempt the dead-letter line names the timeout.
    receiver(async () => {
      expire();
      return new HttpResponse(null, { status: 204 });
    });
    await consume(message, { handler: timing as typeof worker, attempts: MAX_RETRIES + 1 });
    expect(logs.json().find((l) => l.msg === "webhook_dead_lettered")).toMatchObject({ cause: "TimeoutError" });
  });

  it("doubles the delay per attempt from the default base of 10 s, never past the queue's 12 hours", () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8].map((n) => retryDelaySeconds(10, n))).toEqual([
      10, 20, 40, 80, 160, 320, 640, 1280,
    ]);
    // The largest base WEBHOOK_RETRY_BASE_SECONDS accepts, at the last retry.
    expect(retryDelaySeconds(300, MAX_RETRIES)).toBeLessThanOrEqual(43_200);
  });

  it.each([400, 401, 404, 410, 422, 302])("does not retry a %i: dead-letters and acks it", async (code) => {
    const seen = receiver(status(code));
    const { result, deadLetters } = await consume(message);
    expect(seen).toHaveLength(1);
    expect(result.explicitAcks).toEqual(["queue-msg-1"]);
    expect(result.retryMessages).toEqual([]);
    expect(deadLetters).toEqual([message]);
    expect(logs.json().find((l) => l.msg === "webhook_rejected")).toMatchObject({
      level: "error",
      webhookId: message.id,
      status: code,
    });
    logs.expectAbsent(REFERENCE);
  });

  it("dead-letters after max_retries with an error line", async () => {
    receiver(status(502));
    const last = await consume(message, { attempts: MAX_RETRIES + 1 });
    expect(last.result.explicitAcks).toEqual(["queue-msg-1"]);
    expect(last.result.retryMessages).toEqual([]);
    expect(last.deadLetters).toEqual([message]);
    expect(logs.json().find((l) => l.msg === "webhook_dead_lettered")).toMatchObject({
      level: "error",
      webhookId: message.id,
      attempts: MAX_RETRIES + 1,
      status: 502,
    });
    // One attempt earlier it is still retried.
    receiver(status(502));
    const before = await consume(message, { attempts: MAX_RETRIES });
    expect(before.result.retryMessages).toHaveLength(1);
    expect(before.deadLetters).toEqual([]);
  });

  it("leaves the message to the queue's own dead-letter queue when sending to WEBHOOKS_DLQ fails", async () => {
    receiver(status(404));
    const { result } = await consume(message, { env: { WEBHOOKS_DLQ: recordingQueue(true) } });
    expect(result.explicitAcks).toEqual([]);
    expect(result.retryMessages).toEqual([{ msgId: "queue-msg-1", delaySeconds: undefined }]);
  });

  it("agrees with wrangler.toml's max_retries (every environment) and dead_letter_queue", () => {
    const retries = [...WRANGLER_TOML.matchAll(/^max_retries = (\d+)$/gm)].map((m) => Number(m[1]));
    expect(retries.length).toBeGreaterThanOrEqual(1);
    expect(new Set(retries)).toEqual(new Set([MAX_RETRIES]));
    const consumer = /\[\[queues\.consumers\]\]([\s\S]*?)(?:\n\[|$)/.exec(WRANGLER_TOML)?.[1] ?? "";
    expect(consumer).toMatch(new RegExp(`^max_retries = ${MAX_RETRIES}$`, "m"));
    expect(consumer).toMatch(/^dead_letter_queue = "peaka-connect-webhooks-dlq"$/m);
    expect(consumer).toMatch(/^queue = "peaka-connect-webhooks"$/m);
  });

  it("retries while webhooks are not configured, without posting", async () => {
    const seen = receiver(status(204));
    const off = await consume(message, { env: { WEBHOOK_URL: "" } });
    expect(off.result.retryMessages).toEqual([{ msgId: "queue-msg-1", delaySeconds: 10 }]);
    expect(seen).toEqual([]);
  });
});
