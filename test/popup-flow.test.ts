import { describe, expect, it } from "vitest";
import { POPUP_CSP } from "../src/edge/popup-page";
import { verifyResult } from "../src/security/result.js";
import { apiInit, browserGet, consentUrl, freshToken, HOST, LINK_KEY, link, mockCreate } from "./fixtures/start";
import { connectionJson, mockExchange } from "./helpers/peaka";
import { BROWSER, call, type Overrides } from "./helpers/worker";

/*
 * Popup mode through the worker's routes: a session started with
 * display "popup" ends on the popup page instead of a 303, at every way a
 * flow ends (completion, exchange, denial, a start that failed), and the
 * page posts to exactly the return URL's origin.
 */

const KEY = "test-result-signing-key-0123456789abcdef";
const SIGNED: Overrides = { RESULT_SIGNING_KEY: KEY };
const EXCHANGE: Overrides = { ...SIGNED, CALLBACK_MODE: "exchange" };
const CLIENT = { clientId: "client-123.apps.example.com", clientSecret: "cs_live_9f8e7d6c5b4a" };
const SESSION_ID = /^cs_[A-Za-z0-9_-]{24}$/;

interface PageData {
  t: string;
  l: string;
  m: { source: string; sessionId: string; connectionId?: string; status: string; error?: string; result?: string };
}

async function startPopup(returnUrl: string, vars: Overrides, extra: object = {}, display = "popup") {
  const token = freshToken();
  const body = { type: "google_analytics", name: "Analytics", returnUrl, display, ...extra };
  const res = await call(`${HOST}/api/v1/connections`, apiInit("POST", body, token), { ADMIN_TOKEN: token, ...vars });
  expect(res.status).toBe(201);
  return (await res.json()) as { connectionId: string; sessionId: string };
}

/** The popup page's data element, after checking it is the popup page. */
async function popupData(res: Response): Promise<PageData> {
  expect(res.status).toBe(200);
  expect(res.headers.get("location")).toBeNull();
  expect(res.headers.get("content-security-policy")).toBe(POPUP_CSP);
  expect(res.headers.get("cache-control")).toBe("no-store");
  expect(res.headers.get("cross-origin-opener-policy")).toBeNull();
  const html = await res.text();
  const json = /<script type="application\/json" id="d">([\s\S]*?)<\/script>/.exec(html)?.[1];
  expect(json, "the page's data element").toBeDefined();
  return JSON.parse(json ?? "") as PageData;
}

describe("a popup-display session ends on the popup page", () => {
  it.each([
    "https://app.example.com/settings?tab=data",
    "http://localhost:3000/connected?flow=2a&zone=us",
    "https://app.example.com/",
  ])(
    "completion (relay mode): posts to the return URL's origin, with the redirect as fallback: %s",
    async (returnUrl) => {
      const id = `conn_${crypto.randomUUID()}`;
      mockCreate({ id, url: consentUrl(`st_${id}`) });
      const { sessionId } = await startPopup(returnUrl, SIGNED);
      expect(sessionId).toMatch(SESSION_ID);

      const res = await call(`${HOST}/oauth2/complete?connectionId=${id}&status=success`, { headers: BROWSER }, SIGNED);
      const data = await popupData(res);
      const origin = new URL(returnUrl).origin;
      expect(data.t).toBe(origin);
      expect(data.t).not.toBe("*");
      expect(data.m).toMatchObject({ source: "peaka-connect-edge", sessionId, connectionId: id, status: "success" });
      expect(data.m.error).toBeUndefined();
      const claims = await verifyResult(data.m.result, KEY, { audience: origin, issuer: HOST });
      expect(claims).toMatchObject({ sub: id, status: "success", via: "redirect" });
      // Without an opener the page goes where redirect mode would have gone.
      const back = new URL(data.l);
      expect(back.origin).toBe(origin);
      expect(`${back.origin}${back.pathname}`).toBe(`${origin}${new URL(returnUrl).pathname}`);
      expect(back.searchParams.get("connectionId")).toBe(id);
      expect(back.searchParams.get("status")).toBe("success");
      expect(back.searchParams.get("result")).toBe(data.m.result);
    },
  );

  it("exchange mode: success and a provider's denial", async () => {
    for (const denied of [false, true]) {
      const id = `conn_${crypto.randomUUID()}`;
      const state = `st_${crypto.randomUUID()}`;
      mockCreate({ id, url: consentUrl(state, `${HOST}/oauth2/mycallback`) });
      const { sessionId } = await startPopup("http://localhost:3000/back", EXCHANGE, { credential: CLIENT });
      mockExchange(() => connectionJson(id));
      const query = denied ? `error=access_denied&state=${state}` : `code=c_${crypto.randomUUID()}&state=${state}`;
      const res = await call(`${HOST}/oauth2/mycallback?${query}`, { headers: BROWSER }, EXCHANGE);
      const data = await popupData(res);
      expect(data.t).toBe("http://localhost:3000");
      expect(data.m).toMatchObject({
        sessionId,
        connectionId: id,
        status: denied ? "fail" : "success",
        ...(denied ? { error: "access_denied" } : {}),
      });
      expect(new URL(data.l).searchParams.get("status")).toBe(denied ? "fail" : "success");
    }
  });

  it("a signed popup link whose connection Peaka refused ends on the page too", async () => {
    mockCreate({ status: 500 });
    const url = await link({ display: "popup" });
    const res = await call(url, browserGet(url), { ...SIGNED, LINK_SIGNING_KEY: LINK_KEY });
    const data = await popupData(res);
    expect(data.t).toBe("https://app.example.com");
    expect(data.m).toMatchObject({ source: "peaka-connect-edge", status: "fail", error: "peaka_unavailable" });
    expect(data.m.sessionId).toMatch(SESSION_ID);
  });

  it("display redirect (the default) still answers a 303", async () => {
    const id = `conn_${crypto.randomUUID()}`;
    mockCreate({ id, url: consentUrl(`st_${id}`) });
    await startPopup("https://app.example.com/settings", SIGNED, {}, "redirect");
    const res = await call(`${HOST}/oauth2/complete?connectionId=${id}&status=success`, { headers: BROWSER }, SIGNED);
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toMatch(/^https:\/\/app\.example\.com\/settings\?connectionId=/);
  });
});
