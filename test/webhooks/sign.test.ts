import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { webhookMessage } from "../../src/webhooks/message";
import { signWebhook } from "../../src/webhooks/sign";
import { PREVIOUS, SECRET, sessionEvent } from "./fixtures";

const key = (secret: string) => secret.slice("whsec_".length);

describe("webhook signatures against the standardwebhooks library", () => {
  const { id, body } = webhookMessage(sessionEvent());
  const timestamp = Math.floor(Date.now() / 1000);

  it("match Webhook.sign byte for byte", async () => {
    const ours = await signWebhook([key(SECRET)], id, timestamp, body);
    expect(ours).toBe(new Webhook(SECRET).sign(id, new Date(timestamp * 1000), body));
    expect(ours).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);
    // Any change to what is signed changes the signature.
    expect(await signWebhook([key(SECRET)], id, timestamp + 1, body)).not.toBe(ours);
    expect(await signWebhook([key(SECRET)], "msg_other", timestamp, body)).not.toBe(ours);
  });

  it("are accepted by Webhook.verify, which returns the body", async () => {
    const headers = {
      "webhook-id": id,
      "webhook-timestamp": String(timestamp),
      "webhook-signature": await signWebhook([key(SECRET)], id, timestamp, body),
    };
    expect(new Webhook(SECRET).verify(body, headers)).toEqual(JSON.parse(body));
    expect(() => new Webhook(PREVIOUS).verify(body, headers)).toThrow(/signature/i);
    expect(() => new Webhook(SECRET).verify(body.replace("succeeded", "failed"), headers)).toThrow(/signature/i);
  });

  it("carry one v1 entry per secret during a rotation, each verifying on its own", async () => {
    const signature = await signWebhook([key(SECRET), key(PREVIOUS)], id, timestamp, body);
    const entries = signature.split(" ");
    expect(entries).toEqual([
      new Webhook(SECRET).sign(id, new Date(timestamp * 1000), body),
      new Webhook(PREVIOUS).sign(id, new Date(timestamp * 1000), body),
    ]);
    const headers = { "webhook-id": id, "webhook-timestamp": String(timestamp), "webhook-signature": signature };
    // A receiver that still has the old secret and one that has the new one both accept.
    expect(new Webhook(SECRET).verify(body, headers)).toEqual(JSON.parse(body));
    expect(new Webhook(PREVIOUS).verify(body, headers)).toEqual(JSON.parse(body));
    expect(() => new Webhook("whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA").verify(body, headers)).toThrow(/signature/i);
  });
});
