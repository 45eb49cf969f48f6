import { describe, expect, it } from "vitest";
import { parseConfig } from "../src/config/load";
import { resultKeyId, verifyResult } from "../src/security/result";
import { apiInit, browserGet, HOST, link, mockCreate, RETURN_URL } from "./fixtures/start";
import { captureLogs } from "./helpers/logs";
import { call, type Overrides, testEnv } from "./helpers/worker";

// Two-value key rotation (docs/deploy.md#rotating-secrets): during a rotation
// each secret has a second value, `<NAME>_PREVIOUS`. What the worker checks
// (ADMIN_TOKEN, LINK_SIGNING_KEY) is accepted under either; what it produces
// (RESULT_SIGNING_KEY) is signed under the current key only, named by `kid`.

const logs = captureLogs();
const key = (label: string) => `${label}-${crypto.randomUUID()}`;
const AUDIENCE = new URL(RETURN_URL).origin;

function ip(): string {
  const b = crypto.getRandomValues(new Uint8Array(3));
  return `198.${b[0]}.${b[1]}.${b[2]}`;
}

const CREATE = { type: "google_analytics", name: "Analytics", returnUrl: RETURN_URL };
const postApi = (token: string, vars: Overrides) =>
  call(`${HOST}/api/v1/connections`, apiInit("POST", CREATE, token), vars);

describe("ADMIN_TOKEN rotation", () => {
  it("accepts the new and the previous token, nothing else, each with its own rate-limit key", async () => {
    const [current, previous] = [key("adm-new"), key("adm-old")];
    const vars: Overrides = { ADMIN_TOKEN: current, ADMIN_TOKEN_PREVIOUS: previous };
    const keys: string[] = [];
    const limiter = {
      async limit({ key }: { key: string }) {
        keys.push(key);
        return { success: true };
      },
    };
    mockCreate();
    mockCreate();
    expect((await postApi(current, { ...vars, API_RATE_LIMITER: limiter })).status).toBe(201);
    expect((await postApi(previous, { ...vars, API_RATE_LIMITER: limiter })).status).toBe(201);
    expect(keys).toHaveLength(2);
    expect(keys[0]).not.toBe(keys[1]);
    for (const wrong of [key("adm-other"), `${current}x`, current.slice(0, -1)]) {
      expect((await postApi(wrong, vars)).status).toBe(401);
    }
    logs.expectAbsent(current, previous);
  });

  it("refuses the previous token once ADMIN_TOKEN_PREVIOUS is deleted", async () => {
    const [current, previous] = [key("adm-new"), key("adm-old")];
    mockCreate();
    expect((await postApi(previous, { ADMIN_TOKEN: current, ADMIN_TOKEN_PREVIOUS: previous })).status).toBe(201);
    expect((await postApi(previous, { ADMIN_TOKEN: current })).status).toBe(401);
  });
});

describe("LINK_SIGNING_KEY rotation", () => {
  it("accepts links signed under the new or the previous key, and no other", async () => {
    const [current, previous] = [key("lnk-new"), key("lnk-old")];
    const vars: Overrides = { LINK_SIGNING_KEY: current, LINK_SIGNING_KEY_PREVIOUS: previous };
    for (const signer of [current, previous]) {
      mockCreate();
      const url = await link({}, signer);
      const res = await call(url, browserGet(url, ip()), vars);
      expect(res.status).toBe(303);
      expect(res.headers.get("location")).toMatch(/^https:\/\/accounts\.google\.com\//);
    }
    const foreign = await link({}, key("lnk-other"));
    const refused = await call(foreign, browserGet(foreign, ip()), vars);
    expect(refused.status).toBe(403);
    expect(await refused.text()).toContain("link_invalid");
    // Without the previous key, links signed under it are refused again.
    const old = await link({}, previous);
    expect((await call(old, browserGet(old, ip()), { LINK_SIGNING_KEY: current })).status).toBe(403);
    logs.expectAbsent(current, previous);
  });
});

describe("RESULT_SIGNING_KEY rotation", () => {
  it("signs with the current key only, names it by kid, and a verifier holding both keys accepts it", async () => {
    const [current, previous] = [key("res-new-key"), key("res-old-key")];
    const linkKey = key("lnk-key");
    const signed = await link({}, linkKey);
    mockCreate({ url: undefined });
    const back = await call(signed, browserGet(signed, ip()), {
      LINK_SIGNING_KEY: linkKey,
      RESULT_SIGNING_KEY: current,
      RESULT_SIGNING_KEY_PREVIOUS: previous,
    });
    expect(back.status).toBe(303);
    const token = new URL(back.headers.get("location") ?? "").searchParams.get("result") ?? "";
    const header = JSON.parse(atob(token.split(".")[0] ?? ""));
    expect(header).toEqual({ alg: "HS256", typ: "JWT", kid: await resultKeyId(current) });
    expect(header.kid).not.toBe(await resultKeyId(previous));
    expect((await verifyResult(token, [previous, current], { audience: AUDIENCE, issuer: HOST })).status).toBe(
      "success",
    );
    await expect(verifyResult(token, previous, { audience: AUDIENCE })).rejects.toMatchObject({ code: "signature" });
    logs.expectAbsent(current, previous);
  });
});

describe("_PREVIOUS configuration", () => {
  it("an invalid _PREVIOUS is a problem by name on /healthz, never its value, and the current key still works", async () => {
    const current = key("adm-new");
    const bad = "short-old-token";
    const vars: Overrides = { ADMIN_TOKEN: current, ADMIN_TOKEN_PREVIOUS: bad };
    const health = await call(`${HOST}/healthz`, {}, vars);
    const text = await health.text();
    expect(text).not.toContain(bad);
    expect(JSON.parse(text)).toMatchObject({
      status: "degraded",
      problems: [expect.objectContaining({ variable: "ADMIN_TOKEN_PREVIOUS" })],
    });
    mockCreate();
    expect((await postApi(current, vars)).status).toBe(201);
    expect((await postApi(bad, vars)).status).toBe(401);
  });

  it("/healthz names the rotations in progress", async () => {
    const body = await (
      await call(
        `${HOST}/healthz`,
        {},
        {
          ADMIN_TOKEN: key("a"),
          ADMIN_TOKEN_PREVIOUS: key("b"),
          RESULT_SIGNING_KEY: key("c"),
          RESULT_SIGNING_KEY_PREVIOUS: key("d"),
          LINK_SIGNING_KEY: key("e"),
          WEBHOOK_URL: "https://hooks.example.com/peaka",
          WEBHOOK_SECRET: `whsec_${btoa("webhook-secret-new-0123456789")}`,
          WEBHOOK_SECRET_PREVIOUS: `whsec_${btoa("webhook-secret-old-0123456789")}`,
        },
      )
    ).json();
    expect(body).toMatchObject({ rotating: ["ADMIN_TOKEN", "RESULT_SIGNING_KEY", "WEBHOOK_SECRET"] });
    const plain = await (await call(`${HOST}/healthz`, {}, { ADMIN_TOKEN: key("a") })).json();
    expect(plain).not.toHaveProperty("rotating");
  });

  it("a _PREVIOUS without the current key switches nothing on: the current one is named as missing", () => {
    const parsed = parseConfig(testEnv({ LINK_SIGNING_KEY: "", LINK_SIGNING_KEY_PREVIOUS: key("old") }));
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.config.linkSigningKey).toEqual({
      state: "invalid",
      problem: { variable: "LINK_SIGNING_KEY", reason: "is not set, but LINK_SIGNING_KEY_PREVIOUS is" },
    });
    const both = parseConfig(
      testEnv({ RESULT_SIGNING_KEY: "a".repeat(32), RESULT_SIGNING_KEY_PREVIOUS: "b".repeat(32) }),
    );
    expect(both.ok && both.config.resultSigningKey).toEqual({
      state: "set",
      value: "a".repeat(32),
      previous: "b".repeat(32),
    });
  });
});
