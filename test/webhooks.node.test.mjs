// Webhook delivery under `wrangler dev`: the worker's real local queues
// (producer, consumer, retry with delay) and a local receiver that answers
// 500 to the first delivery and 204 to the retry, verifying every request
// with the standardwebhooks package as a partner would. A flow reaches its
// terminal outcome through the worker's own routes: the server API starts a
// connection (against a one-route Peaka stand-in) and the completion
// callback settles its session, which enqueues the webhook.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Webhook } from "standardwebhooks";
import { freePort, startWorker } from "../scripts/lib/stack.mjs";

const SECRET = `whsec_${randomBytes(24).toString("base64")}`;
const ADMIN_TOKEN = `admin-${randomBytes(24).toString("base64url")}`;
const PROJECT_ID = "proj_webhooks";
const RETURN_ORIGIN = "http://localhost:3000";

/** An HTTP server on 127.0.0.1 for a handler; resolves with its origin and a close(). */
async function listen(handler) {
  const server = createServer(handler);
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address();
  return { origin: `http://127.0.0.1:${port}`, close: () => new Promise((r) => server.close(r)) };
}

/** The whole request body as text. */
async function bodyOf(req) {
  let text = "";
  req.setEncoding("utf8");
  for await (const chunk of req) text += chunk;
  return text;
}

/** Resolves once `predicate()` holds, polling; fails after `ms`. */
async function until(predicate, ms, what) {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) assert.fail(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("webhook delivery under wrangler dev", { timeout: 180_000 }, () => {
  const deliveries = [];
  const workerLines = [];
  let peaka;
  let receiver;
  let worker;
  let stateDir;

  before(async () => {
    // Peaka's create-connection call, the one platform call this flow makes.
    peaka = await listen(async (req, res) => {
      await bodyOf(req);
      const id = `conn_${randomBytes(6).toString("hex")}`;
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ id, name: "webhook-test", type: "google_analytics" }));
    });
    // The partner's endpoint: fails the first delivery, accepts the rest.
    receiver = await listen(async (req, res) => {
      const body = await bodyOf(req);
      const headers = {
        "webhook-id": req.headers["webhook-id"],
        "webhook-timestamp": req.headers["webhook-timestamp"],
        "webhook-signature": req.headers["webhook-signature"],
      };
      let verified;
      try {
        verified = new Webhook(SECRET).verify(body, headers);
      } catch (error) {
        verified = error;
      }
      deliveries.push({ at: Date.now(), path: req.url, headers, body, verified });
      res.writeHead(deliveries.length === 1 ? 500 : 204);
      res.end();
    });
    stateDir = mkdtempSync(join(tmpdir(), "pce-webhooks-"));
    const port = await freePort();
    worker = await startWorker({
      mode: "webhooks",
      port,
      inspectorPort: await freePort(),
      stateDir,
      vars: {
        PEAKA_PROJECT_ID: PROJECT_ID,
        PEAKA_API_KEY: `key-${randomBytes(8).toString("hex")}`,
        PEAKA_US_API_URL: `${peaka.origin}/api/v1`,
        PUBLIC_ORIGINS: `http://localhost:${port}`,
        RETURN_ORIGINS: RETURN_ORIGIN,
        BROWSER_BINDING: "off",
        ADMIN_TOKEN,
        WEBHOOK_URL: `${receiver.origin}/webhooks`,
        WEBHOOK_SECRET: SECRET,
        WEBHOOK_RETRY_BASE_SECONDS: "1",
      },
      onOutput: (_mode, line) => workerLines.push(line),
    });
  });

  after(async () => {
    await worker?.stop();
    await receiver?.close();
    await peaka?.close();
    if (stateDir) rmSync(stateDir, { recursive: true, force: true });
  });

  it("retries a failed delivery and delivers the same signed webhook on the retry", async () => {
    const health = await (await fetch(`${worker.origin}/healthz`)).json();
    // Webhooks configured and valid: no problem on /healthz.
    assert.equal(health.ok, true, JSON.stringify(health));

    const created = await fetch(`${worker.origin}/api/v1/connections`, {
      method: "POST",
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({
        type: "google_analytics",
        name: "webhook-test",
        returnUrl: `${RETURN_ORIGIN}/connected`,
        reference: "tenant-42",
      }),
    });
    const started = await created.json();
    assert.equal(created.status, 201, JSON.stringify(started));
    assert.match(started.sessionId, /^cs_[A-Za-z0-9_-]{24}$/);

    // The user comes back from Peaka: the completion settles the session.
    const completion = new URL("/oauth2/complete", worker.origin);
    completion.searchParams.set("connectionId", started.connectionId);
    completion.searchParams.set("status", "success");
    const back = await fetch(completion, { redirect: "manual" });
    assert.equal(back.status, 303);

    await until(() => deliveries.length >= 2, 60_000, "the delivery and its retry");
    const [first, second] = deliveries;
    for (const delivery of [first, second]) {
      assert.equal(delivery.path, "/webhooks");
      assert.ok(!(delivery.verified instanceof Error), `signature rejected: ${delivery.verified}`);
    }
    // Same id and body on the retry; a new timestamp and signature.
    assert.equal(first.headers["webhook-id"], `msg_${started.sessionId}`);
    assert.equal(second.headers["webhook-id"], first.headers["webhook-id"]);
    assert.equal(second.body, first.body);
    // The retry waited WEBHOOK_RETRY_BASE_SECONDS (1 s) at least.
    assert.ok(second.at - first.at >= 900, `retried after ${second.at - first.at} ms`);
    assert.deepEqual(second.verified, {
      type: "connection.succeeded",
      timestamp: second.verified.timestamp,
      data: {
        sessionId: started.sessionId,
        connectionId: started.connectionId,
        platform: "peaka",
        type: "google_analytics",
        zone: "us",
        status: "succeeded",
        reference: "tenant-42",
      },
    });
    // Exactly once more: the 204 acked it.
    await new Promise((r) => setTimeout(r, 2500));
    assert.equal(deliveries.length, 2);

    const events = workerLines.flatMap((line) => {
      const start = line.indexOf("{");
      try {
        return start < 0 ? [] : [JSON.parse(line.slice(start))];
      } catch {
        return [];
      }
    });
    // A retry that then succeeds alerts nobody: no error line.
    assert.deepEqual(
      events.filter((e) => e.level === "error"),
      [],
    );
    for (const line of workerLines) {
      assert.ok(!line.includes(SECRET.slice(6)), "the secret reached a log line");
      assert.ok(!line.includes("tenant-42"), "the reference reached a log line");
    }
  });
});

describe("the demo partner app's webhook endpoint", () => {
  let app;
  const secret = `whsec_${randomBytes(24).toString("base64")}`;

  before(async () => {
    const { startPartnerApp } = await import("../standin/partner-app.mjs");
    app = await startPartnerApp({
      port: 0,
      origin: "http://localhost:3000",
      workers: { relay: "http://localhost:8787", exchange: "http://localhost:8789" },
      standins: { us: "http://localhost:8790", eu: "http://localhost:8791" },
      platform: "http://localhost:8792",
      start: async () => assert.fail("no flow starts here"),
      startedVia: "test",
      webhookSecret: secret,
      quiet: true,
    });
  });
  after(() => app?.close());

  /** POSTs a body signed with `key` as the worker would. */
  async function deliver(key, id, payload) {
    const body = JSON.stringify(payload);
    const timestamp = new Date();
    return fetch(`http://127.0.0.1:${app.port}/webhooks`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "webhook-id": id,
        "webhook-timestamp": String(Math.floor(timestamp.getTime() / 1000)),
        "webhook-signature": new Webhook(key).sign(id, timestamp, body),
      },
      body,
    });
  }

  it("verifies, de-duplicates on webhook-id, shows them, and refuses a bad signature with a 400", async () => {
    const payload = {
      type: "connection.failed",
      timestamp: new Date().toISOString(),
      data: {
        sessionId: "cs_demo",
        connectionId: null,
        platform: "peaka",
        type: "ga",
        zone: "eu",
        status: "failed",
        error: "access_denied",
      },
    };
    assert.equal((await deliver(secret, "msg_cs_demo", payload)).status, 200);
    const again = await deliver(secret, "msg_cs_demo", payload);
    assert.deepEqual(await again.json(), { received: "msg_cs_demo", duplicate: true });
    const forged = await deliver(`whsec_${randomBytes(24).toString("base64")}`, "msg_cs_forged", payload);
    assert.equal(forged.status, 400);
    assert.deepEqual(await forged.json(), { error: "invalid_signature" });

    const home = await (await fetch(`http://127.0.0.1:${app.port}/`)).text();
    assert.match(home, /data-webhook-id="msg_cs_demo"/);
    assert.match(home, /access_denied/);
    assert.doesNotMatch(home, /msg_cs_forged/);
    const landing = await (await fetch(`http://127.0.0.1:${app.port}/connected?status=fail`)).text();
    assert.match(landing, /<tr class="webhook" data-webhook-id="msg_cs_demo">.*<td>2<\/td><\/tr>/s);
  });
});
