import type { SessionEvent } from "../../src/core/events";

/** The Standard Webhooks reference secret format: whsec_ + base64 of 24 bytes. */
export const SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
/** The secret being rotated out (WEBHOOK_SECRET_PREVIOUS). */
export const PREVIOUS = "whsec_c2VjcmV0LWJlaW5nLXJvdGF0ZWQtb3V0LTAx";
export const RECEIVER = "https://partner.example.com/hooks/peaka";
export const REFERENCE = "tenant-4711/user-0815";

export const WEBHOOK_ENV = { WEBHOOK_URL: RECEIVER, WEBHOOK_SECRET: SECRET };

export function sessionEvent(overrides: Partial<SessionEvent["data"]> = {}, at = Date.UTC(2026, 10, 23, 12)) {
  const data = {
    sessionId: "cs_AAAAAAAAAAAAAAAAAAAAAAAA",
    connectionId: "conn_01",
    platform: "peaka",
    type: "google_analytics",
    zone: "us",
    status: "succeeded",
    reference: REFERENCE,
    ...overrides,
  } as const;
  const event: SessionEvent = {
    type: data.status === "succeeded" ? "connection.succeeded" : "connection.failed",
    at,
    data,
  };
  return event;
}

/** A queue producer through its interface, recording what was sent; `fail` makes every send reject. */
export function recordingQueue(fail = false): Queue & { readonly sent: unknown[] } {
  const sent: unknown[] = [];
  const send = async (body: unknown) => {
    if (fail) throw new Error("queue unavailable");
    sent.push(structuredClone(body));
  };
  return {
    sent,
    send,
    sendBatch: async (messages: Iterable<MessageSendRequest>) => {
      for (const m of messages) await send(m.body);
    },
  } as unknown as Queue & { readonly sent: unknown[] };
}
