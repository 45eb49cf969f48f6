import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/load";
import type { Config } from "../../src/config/types";
import type { SessionEvent } from "../../src/core/events";
import { type AppEnv, buildDeps } from "../../src/edge/context";
import { createWorker, type Env } from "../../src/index";
import { webhookMessage } from "../../src/webhooks/message";
import { captureLogs } from "../helpers/logs";
import { testEnv } from "../helpers/worker";
import { PREVIOUS, REFERENCE, recordingQueue, SECRET, sessionEvent, WEBHOOK_ENV } from "./fixtures";

const logs = captureLogs();

/**
 * A request through the edge's own Deps (edge/context.ts) that settles a
 * session: what the core does when a flow ends, without a platform.
 */
async function notifyThroughEdge(event: SessionEvent, env: Partial<Env>) {
  const full = testEnv(env);
  const parsed = parseConfig(full);
  if (!parsed.ok) throw parsed.error;
  const config: Config = parsed.config;
  const app = new Hono<AppEnv>();
  app.get("/settle", (c) => {
    c.set("requestId", "req-test");
    c.set("log", { route: "complete" });
    buildDeps(c, config, { clock: { now: Date.now, timeout: AbortSignal.timeout }, fetch }).notify(event);
    return c.text("settled");
  });
  const ctx = createExecutionContext();
  const response = await app.request("https://connect.example.com/settle", {}, full, ctx);
  await waitOnExecutionContext(ctx);
  return response;
}

describe("webhooks on deps.notify", () => {
  it("enqueues the Standard Webhooks message after the response, without secrets", async () => {
    const queue = recordingQueue();
    const event = sessionEvent();
    const response = await notifyThroughEdge(event, {
      ...WEBHOOK_ENV,
      WEBHOOK_SECRET_PREVIOUS: PREVIOUS,
      WEBHOOKS: queue,
    });
    expect(await response.text()).toBe("settled");
    expect(queue.sent).toEqual([webhookMessage(event)]);
    const [message] = queue.sent as [{ id: string; body: string }];
    expect(message.id).toBe("msg_cs_AAAAAAAAAAAAAAAAAAAAAAAA");
    expect(JSON.parse(message.body)).toEqual({
      type: "connection.succeeded",
      timestamp: "2026-11-23T12:00:00.000Z",
      data: {
        sessionId: "cs_AAAAAAAAAAAAAAAAAAAAAAAA",
        connectionId: "conn_01",
        platform: "peaka",
        type: "google_analytics",
        zone: "us",
        status: "succeeded",
        reference: REFERENCE,
      },
    });
    const sent = JSON.stringify(queue.sent);
    for (const secret of [SECRET, SECRET.slice(6), PREVIOUS.slice(6)]) expect(sent).not.toContain(secret);
  });

  it("carries a failure's error and no connectionId, and only the fields of the format", async () => {
    const queue = recordingQueue();
    const event = sessionEvent({
      status: "failed",
      connectionId: undefined,
      error: "access_denied",
      reference: undefined,
    });
    // Anything else an event object might carry never reaches the webhook.
    const leaky = { ...event, data: { ...event.data, code: "oauth-code-123", state: "state-456" } } as SessionEvent;
    await notifyThroughEdge(leaky, { ...WEBHOOK_ENV, WEBHOOKS: queue });
    const [message] = queue.sent as [{ body: string }];
    expect(JSON.parse(message.body)).toEqual({
      type: "connection.failed",
      timestamp: "2026-11-23T12:00:00.000Z",
      data: {
        sessionId: "cs_AAAAAAAAAAAAAAAAAAAAAAAA",
        connectionId: null,
        platform: "peaka",
        type: "google_analytics",
        zone: "us",
        status: "failed",
        error: "access_denied",
      },
    });
    expect(message.body).not.toMatch(/oauth-code-123|state-456/);
  });

  it("enqueues nothing when webhooks are off", async () => {
    const queue = recordingQueue();
    await notifyThroughEdge(sessionEvent(), { WEBHOOKS: queue });
    expect(queue.sent).toEqual([]);
    expect(logs.json().filter((l) => String(l.msg).startsWith("webhook"))).toEqual([]);
  });

  it("logs an error line, never the reference or the secret, when the send fails", async () => {
    const response = await notifyThroughEdge(sessionEvent(), { ...WEBHOOK_ENV, WEBHOOKS: recordingQueue(true) });
    expect(response.status).toBe(200);
    expect(logs.json().find((l) => l.msg === "background_task_failed")).toEqual({
      level: "error",
      msg: "background_task_failed",
      task: "webhook",
      requestId: "req-test",
      cause: "Error",
    });
    logs.expectAbsent(REFERENCE, SECRET.slice(6));
  });

  it("enqueues nothing when half configured: /healthz names the missing variable instead", async () => {
    const queue = recordingQueue();
    await notifyThroughEdge(sessionEvent(), { WEBHOOK_URL: WEBHOOK_ENV.WEBHOOK_URL, WEBHOOKS: queue });
    expect(queue.sent).toEqual([]);
  });

  it("logs an error line when the WEBHOOKS binding is missing (an environment without it)", async () => {
    const response = await notifyThroughEdge(sessionEvent(), { ...WEBHOOK_ENV, WEBHOOKS: undefined });
    expect(response.status).toBe(200);
    expect(logs.json().find((l) => l.msg === "background_task_failed")).toMatchObject({
      level: "error",
      task: "webhook",
      cause: "TypeError",
    });
  });

  it("the default worker exports the queue consumer beside fetch", () => {
    const worker = createWorker();
    expect(typeof worker.queue).toBe("function");
  });
});
