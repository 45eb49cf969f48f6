import { env } from "cloudflare:test";
import { HttpResponse } from "msw";
import { describe, expect, it } from "vitest";
import { verifyResult } from "../src/security/result.js";
import { Store } from "../src/storage/store";
import { browserGet, consentUrl, LINK_KEY, link, mockCreate } from "./fixtures/start";
import { captureLogs } from "./helpers/logs";
import { connectionJson, mockExchange } from "./helpers/peaka";
import { BROWSER, call, type Overrides } from "./helpers/worker";

/*
 * RESULT_SIGNING_KEY: every redirect to a return URL for a flow the worker
 * started carries `result`, an HS256 JWT of the same outcome that the
 * partner's backend verifies (src/security/result.js has its own tests for
 * tampering, expiry, audiences and algorithms).
 */

const logs = captureLogs();
const HOST = "https://connect.example.com";
const RETURN_URL = "https://app.example.com/settings?tab=data";
const AUDIENCE = "https://app.example.com";
const KEY = "test-result-signing-key-0123456789abcdef";
const SIGNED: Overrides = { RESULT_SIGNING_KEY: KEY };
const store = new Store(env.CONNECTIONS, 3600);
const unique = (prefix: string) => `${prefix}_${crypto.randomUUID()}`;

function resultOf(res: Response): { params: URLSearchParams; token: string | null } {
  const params = new URL(res.headers.get("location") ?? "").searchParams;
  return { params, token: params.get("result") };
}

async function claimsOf(res: Response) {
  const { token, params } = resultOf(res);
  expect(token, "the redirect carries result").not.toBeNull();
  const claims = await verifyResult(token, KEY, { audience: AUDIENCE, issuer: HOST });
  // The signed outcome says what the query says.
  expect(claims.status).toBe(params.get("status"));
  expect(claims.sub ?? null).toBe(params.get("connectionId"));
  expect(claims.error ?? null).toBe(params.get("error"));
  expect(claims.exp - claims.iat).toBeLessThanOrEqual(600);
  expect(claims.jti).toMatch(/^[0-9a-f-]{36}$/);
  return claims;
}

describe("the signed result on the way back", () => {
  it("completion (Peaka's redirect): via redirect", async () => {
    const id = unique("conn");
    await store.putConnection(id, { returnUrl: RETURN_URL, zone: "eu", mode: "relay", createdAt: Date.now() });
    const res = await call(`${HOST}/oauth2/complete?connectionId=${id}&status=success`, {}, SIGNED);
    expect(res.status).toBe(303);
    expect(await claimsOf(res)).toMatchObject({
      iss: HOST,
      aud: AUDIENCE,
      sub: id,
      status: "success",
      zone: "eu",
      via: "redirect",
    });
  });

  it("a failed completion names connection_failed", async () => {
    const id = unique("conn");
    await store.putConnection(id, { returnUrl: RETURN_URL, zone: "us", mode: "relay", createdAt: Date.now() });
    const res = await call(`${HOST}/oauth2/complete?connectionId=${id}&status=fail`, {}, SIGNED);
    expect(await claimsOf(res)).toMatchObject({ status: "fail", error: "connection_failed", via: "redirect" });
  });

  it("exchange (Peaka's API answered the worker): via exchange, success and failure", async () => {
    const id = unique("conn");
    const state = unique("st");
    await store.putState(state, { connectionId: id, returnUrl: RETURN_URL, zone: "us" });
    mockExchange(() => connectionJson(id));
    const ok = await call(
      `${HOST}/oauth2/mycallback?code=${unique("c")}&state=${state}`,
      {},
      { ...SIGNED, CALLBACK_MODE: "exchange" },
    );
    expect(await claimsOf(ok)).toMatchObject({ sub: id, status: "success", via: "exchange", zone: "us" });

    const failedState = unique("st");
    await store.putState(failedState, { connectionId: id, returnUrl: RETURN_URL, zone: "us" });
    mockExchange(() => new HttpResponse("down", { status: 503 }));
    const failed = await call(
      `${HOST}/oauth2/mycallback?code=${unique("c")}&state=${failedState}`,
      {},
      { ...SIGNED, CALLBACK_MODE: "exchange" },
    );
    expect(await claimsOf(failed)).toMatchObject({ status: "fail", error: "peaka_unavailable", via: "exchange" });
  });

  it("a provider's denial: the provider's error, via redirect", async () => {
    const state = unique("st");
    const id = unique("conn");
    await store.putState(state, { connectionId: id, returnUrl: RETURN_URL, zone: "us" });
    const res = await call(
      `${HOST}/oauth2/mycallback?error=access_denied&state=${state}`,
      {},
      { ...SIGNED, CALLBACK_MODE: "exchange" },
    );
    expect(await claimsOf(res)).toMatchObject({ status: "fail", error: "access_denied", via: "redirect" });
  });

  it("a signed link whose connection Peaka refused: via exchange", async () => {
    mockCreate({ status: 500 });
    const url = await link();
    const res = await call(url, browserGet(url), { ...SIGNED, LINK_SIGNING_KEY: LINK_KEY });
    expect(res.status).toBe(303);
    expect(await claimsOf(res)).toMatchObject({ status: "fail", error: "peaka_unavailable", via: "exchange" });
  });

  it("each result is unique (jti) and bound to the return URL's origin", async () => {
    const tokens: string[] = [];
    for (let i = 0; i < 2; i++) {
      const id = unique("conn");
      await store.putConnection(id, { returnUrl: RETURN_URL, zone: "us", mode: "relay", createdAt: Date.now() });
      const { token } = resultOf(await call(`${HOST}/oauth2/complete?connectionId=${id}&status=success`, {}, SIGNED));
      tokens.push(token ?? "");
    }
    const [a, b] = await Promise.all(tokens.map((t) => verifyResult(t, KEY, { audience: AUDIENCE })));
    expect(a?.jti).not.toBe(b?.jti);
    await expect(verifyResult(tokens[0], KEY, { audience: "http://localhost:3000" })).rejects.toMatchObject({
      code: "audience",
    });
  });

  it("the DEFAULT_RETURN_URL fallback never carries result: it is no flow the worker started", async () => {
    const res = await call(
      `${HOST}/oauth2/complete?connectionId=${unique("never")}&status=success`,
      {},
      { ...SIGNED, DEFAULT_RETURN_URL: `${AUDIENCE}/connections` },
    );
    expect(res.status).toBe(303);
    const { token, params } = resultOf(res);
    expect(params.get("status")).toBe("success");
    expect(token).toBeNull();
  });

  it("no key, no result", async () => {
    const id = unique("conn");
    await store.putConnection(id, { returnUrl: RETURN_URL, zone: "us", mode: "relay", createdAt: Date.now() });
    const res = await call(`${HOST}/oauth2/complete?connectionId=${id}&status=success`);
    expect(resultOf(res).token).toBeNull();
  });

  it("a key too short is config_invalid naming RESULT_SIGNING_KEY, never its value", async () => {
    const id = unique("conn");
    await store.putConnection(id, { returnUrl: RETURN_URL, zone: "us", mode: "relay", createdAt: Date.now() });
    const res = await call(
      `${HOST}/oauth2/complete?connectionId=${id}&status=success`,
      { headers: BROWSER },
      { RESULT_SIGNING_KEY: "short-key" },
    );
    expect(res.status).toBe(500);
    const page = await res.text();
    expect(page).toContain("RESULT_SIGNING_KEY");
    expect(page).not.toContain("short-key");
    // Nothing was spent: the flow can finish once the key is fixed.
    expect(await store.getConnection(id)).toBeDefined();
  });

  it("the key never reaches a log line", async () => {
    const id = unique("conn");
    await store.putConnection(id, { returnUrl: RETURN_URL, zone: "us", mode: "relay", createdAt: Date.now() });
    await call(`${HOST}/oauth2/complete?connectionId=${id}&status=success`, {}, SIGNED);
    logs.expectAbsent(KEY);
  });

  it("signed link and consent still work with a result key (a consent URL is no return URL)", async () => {
    const state = unique("st");
    mockCreate({ url: consentUrl(state) });
    const url = await link();
    const res = await call(url, browserGet(url), { ...SIGNED, LINK_SIGNING_KEY: LINK_KEY });
    expect(res.headers.get("location")).toBe(consentUrl(state));
  });
});
