import { describe, expect, it } from "vitest";
import type { BindingName, Env } from "../../src/config/env";
import { parseConfig } from "../../src/config/load";
import { captureLogs } from "../helpers/logs";
import { call } from "../helpers/worker";
import { PREVIOUS, RECEIVER, SECRET } from "./fixtures";

const logs = captureLogs();

type Vars = Partial<Record<Exclude<keyof Env, BindingName>, string>>;

function webhooks(vars: Vars) {
  const result = parseConfig({ CONNECTIONS: {} as KVNamespace, ...vars } as Env);
  if (!result.ok) throw result.error;
  return result.config.webhooks;
}

describe("webhook configuration", () => {
  it("is off when neither WEBHOOK_URL nor WEBHOOK_SECRET is set", () => {
    expect(webhooks({})).toEqual({ state: "off" });
    // The previous secret only ever signs beside the current one.
    expect(webhooks({ WEBHOOK_SECRET_PREVIOUS: PREVIOUS })).toEqual({ state: "off" });
  });

  it("is on with both, the retry base defaulting to 10 s and the previous secret signing second", () => {
    expect(webhooks({ WEBHOOK_URL: RECEIVER, WEBHOOK_SECRET: SECRET })).toEqual({
      state: "on",
      url: RECEIVER,
      secrets: [SECRET.slice(6)],
      retryBaseSeconds: 10,
    });
    expect(
      webhooks({
        WEBHOOK_URL: "http://127.0.0.1:9000/hooks",
        WEBHOOK_SECRET: SECRET,
        WEBHOOK_SECRET_PREVIOUS: PREVIOUS,
        WEBHOOK_RETRY_BASE_SECONDS: "2",
      }),
    ).toMatchObject({ state: "on", secrets: [SECRET.slice(6), PREVIOUS.slice(6)], retryBaseSeconds: 2 });
  });

  it.each([
    [{ WEBHOOK_URL: RECEIVER }, "WEBHOOK_SECRET"],
    [{ WEBHOOK_SECRET: SECRET }, "WEBHOOK_URL"],
    [{ WEBHOOK_URL: RECEIVER, WEBHOOK_SECRET_PREVIOUS: PREVIOUS }, "WEBHOOK_SECRET"],
    [{ WEBHOOK_URL: "http://partner.example.com/hooks", WEBHOOK_SECRET: SECRET }, "WEBHOOK_URL"],
    [{ WEBHOOK_URL: "https://user:pw@partner.example.com/hooks", WEBHOOK_SECRET: SECRET }, "WEBHOOK_URL"],
    [{ WEBHOOK_URL: RECEIVER, WEBHOOK_SECRET: "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" }, "WEBHOOK_SECRET"],
    [{ WEBHOOK_URL: RECEIVER, WEBHOOK_SECRET: "whsec_not*base64!not*base64!not*base64" }, "WEBHOOK_SECRET"],
    [{ WEBHOOK_URL: RECEIVER, WEBHOOK_SECRET: "whsec_c2hvcnQ=" }, "WEBHOOK_SECRET"],
    [{ WEBHOOK_URL: RECEIVER, WEBHOOK_SECRET: SECRET, WEBHOOK_SECRET_PREVIOUS: "whsec_x" }, "WEBHOOK_SECRET_PREVIOUS"],
    [
      { WEBHOOK_URL: RECEIVER, WEBHOOK_SECRET: SECRET, WEBHOOK_RETRY_BASE_SECONDS: "99999" },
      "WEBHOOK_RETRY_BASE_SECONDS",
    ],
  ] as [Vars, string][])("%j is a problem naming %s, not its value", (vars, variable) => {
    const config = webhooks(vars);
    expect(config.state).toBe("invalid");
    if (config.state !== "invalid") return;
    expect(config.problems.map((p) => p.variable)).toContain(variable);
    const text = JSON.stringify(config.problems);
    for (const value of Object.values(vars)) expect(text).not.toContain(value);
  });

  it("a half configuration degrades /healthz, naming the variable, while flows keep working", async () => {
    const res = await call("https://connect.example.com/healthz", {}, { WEBHOOK_URL: RECEIVER });
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ ok: false, status: "degraded" });
    expect(body.problems).toEqual([{ variable: "WEBHOOK_SECRET", reason: "is not set" }]);
  });

  it("/healthz is ok with webhooks on, never showing the secret", async () => {
    const res = await call(
      "https://connect.example.com/healthz",
      {},
      { WEBHOOK_URL: RECEIVER, WEBHOOK_SECRET: SECRET, WEBHOOK_SECRET_PREVIOUS: PREVIOUS },
    );
    const text = await res.text();
    expect(JSON.parse(text)).toMatchObject({ ok: true });
    expect(JSON.parse(text).problems).toBeUndefined();
    for (const secret of [SECRET.slice(6), PREVIOUS.slice(6)]) expect(text).not.toContain(secret);
    logs.expectAbsent(SECRET.slice(6), PREVIOUS.slice(6));
  });
});
