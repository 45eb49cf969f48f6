// The browser end-to-end cases: every flow of Peaka's OAuth2 guide, approve
// and deny, both zones, through the platform's real OAuth server
// (oidc-provider); an OAuth app registered with the wrong redirect URI; the
// no-record fallback, the built-in error page and Peaka failing during the
// own-callback exchange.

import assert from "node:assert/strict";
import {
  CALLBACK_PATH,
  COMPLETE_PATH,
  FLOWS,
  flowById,
  MISREGISTERED_FLOW,
  peakaClientId,
  TOKEN_FLOW,
  ZONES,
} from "../standin/flows.mjs";
import { freshProfile, launchBrowser } from "./browser.mjs";
import {
  authorizationRequest,
  connectAndDecide,
  hopsAfterConsent,
  lastCallbackIndex,
  navigations,
  openPopup,
  openTab,
  paramsOf,
  popupOutcome,
  settleOn,
  where,
} from "./journey.mjs";
import { riveryCases } from "./rivery-cases.mjs";

/**
 * @typedef {object} CaseContext
 * @property {import("playwright-core").BrowserContext} browser
 * @property {Awaited<ReturnType<typeof import("../scripts/lib/stack.mjs").startStack>>} stack
 * @property {(tab: import("./journey.mjs").Tab, name: string) => Promise<void>} screenshot
 * @property {{ codes: Set<string>, states: Set<string> }} seen  Secrets met on the way, checked against the worker logs.
 */

/**
 * The request chain after the consent decision; the same for approve and
 * deny. The platform first resumes the authorization request, then answers
 * it with a 303 or, for form_post, a page that posts the answer.
 */
function expectedHops(flow, zone) {
  const callback = flow.responseMode === "form_post" ? "POST" : "GET";
  const resume = "GET platform:/auth/:uid";
  switch (flow.id) {
    case "2a":
    case "2b1":
      return [resume, `GET ${zone}:/oauth2/callback`, `GET relay:${COMPLETE_PATH}`, "GET app:/connected"];
    case "2b2-get":
    case "2b2-post":
      // The relay answers 307, so the browser repeats the method (and a form_post body) at Peaka.
      return [
        resume,
        `${callback} relay:${CALLBACK_PATH}`,
        `${callback} ${zone}:/oauth2/callback`,
        `GET relay:${COMPLETE_PATH}`,
        "GET app:/connected",
      ];
    default:
      // Own callback: the browser never visits Peaka after consent.
      return [resume, `${callback} exchange:${CALLBACK_PATH}`, "GET app:/connected"];
  }
}

/** Polls `read` until `done` accepts its value or 10 s pass; returns the last value. */
async function eventually(read, done, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  let value = read();
  while (!done(value) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    value = read();
  }
  return value;
}

function pageUrls(stack) {
  return { ...stack.urls };
}

/**
 * Checks the browser's request log: the authorization code appears at the
 * last callback and in no request after it; the state never appears after
 * it; the callback carries the platform's `iss` (RFC 9207) once.
 */
function assertCodeStaysBehind(tab, ctx, { expectCode }) {
  const urls = pageUrls(ctx.stack);
  const list = navigations(tab.requests);
  const consent = authorizationRequest(tab.requests, urls);
  const state = consent ? new URL(consent.url).searchParams.get("state") : null;
  if (state) ctx.seen.states.add(state);
  const index = lastCallbackIndex(tab.requests, urls);
  assert.ok(index >= 0, "the browser reached a callback");
  const callbackParams = paramsOf(list[index]);
  assert.deepEqual(
    callbackParams.getAll("iss"),
    [ctx.stack.platform.issuer],
    "the callback carries the platform's iss",
  );
  const code = callbackParams.get("code");
  if (expectCode) {
    assert.ok(code, "the callback carried a code");
    ctx.seen.codes.add(code);
  } else {
    assert.equal(code, null, "a denied consent carries no code");
  }
  for (const later of list.slice(index + 1)) {
    for (const secret of [code, state]) {
      if (!secret) continue;
      for (const form of [secret, encodeURIComponent(secret), new URLSearchParams({ s: secret }).toString().slice(2)]) {
        assert.ok(!later.url.includes(form), `${where(later.url, urls)} must not carry the code or state`);
        assert.ok(!later.postData.includes(form), `${where(later.url, urls)} body must not carry the code or state`);
      }
    }
  }
}

/** Asserts the landing page URL and what the demo app shows. */
async function assertLanding(tab, ctx, url, expected) {
  const { stack } = ctx;
  assert.equal(url.origin, new URL(stack.urls.app).origin, "lands on the partner app's origin");
  assert.equal(url.pathname, "/connected", "lands on the partner app's return path");
  const params = url.searchParams;
  assert.equal(params.get("status"), expected.status, "status");
  assert.equal(params.get("error"), expected.error ?? null, "error");
  if (expected.errorDescription !== undefined) {
    assert.equal(params.get("error_description"), expected.errorDescription, "error_description");
  }
  const connectionId = params.get("connectionId") ?? "";
  assert.match(connectionId, new RegExp(`^${expected.zone}-[0-9a-f-]{36}$`), "connectionId from the right zone");
  assert.equal(params.getAll("connectionId").length, 1, "one connectionId");
  if (stack.startMode === "edge") {
    // The stored return URL (flow and zone in it) came back, not the default.
    assert.equal(params.get("flow"), expected.flowId, "return URL kept its own query (flow)");
    assert.equal(params.get("zone"), expected.zone, "return URL kept its own query (zone)");
    assert.equal(params.get("via"), null, "not the DEFAULT_RETURN_URL fallback");
  } else {
    assert.equal(params.get("via"), "default", "without start routes users return via DEFAULT_RETURN_URL");
  }
  assert.equal(await tab.page.textContent("#status"), expected.status);
  assert.equal(await tab.page.textContent("#connection-id"), connectionId);
  // The demo app's backend verified the signed result for its own origin (DEFAULT_RETURN_URL carries none).
  const verdict = (await tab.page.textContent("#result")) ?? "";
  if (stack.startMode === "edge") assert.match(verdict, new RegExp(`^verified \\(${expected.status} via `), "result");
  else assert.match(verdict, /^not verified/, "result");
  return connectionId;
}

/** Calls of one kind the stand-in recorded for a connection. */
function standinCalls(ctx, zone, connectionId, call) {
  return ctx.stack.standins[zone].ctx.state.calls.filter((c) => c.connectionId === connectionId && c.call === call);
}

function flowCase(flow, zone, decision) {
  return {
    name: `${flow.option} ${flow.id} ${zone} ${decision}`,
    file: `${flow.id}-${zone}-${decision}`,
    async run(ctx) {
      const tab = await openTab(ctx.browser);
      const clientId = flow.clientId ?? peakaClientId(zone);
      const codesBefore = ctx.stack.platform.codesIssued(clientId);
      try {
        await connectAndDecide(tab, ctx.stack, { flowId: flow.id, zone, decision });
        const url = await settleOn(tab, (u) => u.pathname === "/connected");
        await ctx.screenshot(tab, `${flow.id}-${zone}-${decision}`);
        assert.deepEqual(hopsAfterConsent(tab.requests, pageUrls(ctx.stack)), expectedHops(flow, zone));
        assertCodeStaysBehind(tab, ctx, { expectCode: decision === "approve" });
        const consent = new URL(authorizationRequest(tab.requests, pageUrls(ctx.stack))?.url ?? "");
        assert.equal(consent.searchParams.get("client_id"), clientId, "the consent URL names the flow's OAuth app");
        assert.equal(
          ctx.stack.platform.codesIssued(clientId) - codesBefore,
          decision === "approve" ? 1 : 0,
          "codes the platform issued for the app",
        );

        const ownCallback = flow.worker === "exchange";
        const expected =
          decision === "approve"
            ? { status: "success", zone, flowId: flow.id }
            : ownCallback
              ? // The worker passes the provider's error on; Peaka's callback only says "fail".
                {
                  status: "fail",
                  error: "access_denied",
                  errorDescription: "The user denied access",
                  zone,
                  flowId: flow.id,
                }
              : // Peaka's callback says only "fail"; the worker names it connection_failed.
                { status: "fail", error: "connection_failed", zone, flowId: flow.id };
        const connectionId = await assertLanding(tab, ctx, url, expected);

        const connection = ctx.stack.standins[zone].ctx.state.connections.get(connectionId);
        assert.ok(connection, `the ${zone} stand-in created ${connectionId}`);
        // Peaka never hears of a denial in the own-callback flow, so it stays pending there.
        const peakaView = decision === "approve" ? "connected" : ownCallback ? "pending" : "failed";
        assert.equal(connection.status, peakaView, "Peaka's view of the connection");
        if (ownCallback) {
          // A denial never reaches Peaka; an approval is exchanged exactly once.
          assert.equal(standinCalls(ctx, zone, connectionId, "exchange").length, decision === "approve" ? 1 : 0);
          assert.equal(standinCalls(ctx, zone, connectionId, "callback").length, 0, "Peaka's callback not visited");
        } else {
          assert.equal(standinCalls(ctx, zone, connectionId, "callback").length, 1, "Peaka's callback visited once");
          if (zone === "us") {
            // The US stand-in answers in the guide's `?connectionId=X?status=Y` form.
            const complete = navigations(tab.requests).find((r) => new URL(r.url).pathname === COMPLETE_PATH);
            assert.match(complete?.url ?? "", /\?connectionId=[^&?]+\?status=/, "guide-style completion URL");
          }
        }
      } finally {
        await tab.page.close();
      }
    },
  };
}

function faultCase(zone, fault, error) {
  const flow = flowById("2b3-get");
  return {
    name: `2.b.3 ${zone} Peaka ${fault} during exchange`,
    file: `2b3-${zone}-fault-${fault}`,
    async run(ctx) {
      const tab = await openTab(ctx.browser);
      try {
        const onConsent = (t) => ctx.screenshot(t, `consent-${zone}-fault-${fault}`);
        await connectAndDecide(tab, ctx.stack, { flowId: flow.id, zone, decision: "approve", fault, onConsent });
        const url = await settleOn(tab, (u) => u.pathname === "/connected");
        await ctx.screenshot(tab, `2b3-${zone}-fault-${fault}`);
        assert.deepEqual(hopsAfterConsent(tab.requests, pageUrls(ctx.stack)), expectedHops(flow, zone));
        assertCodeStaysBehind(tab, ctx, { expectCode: true });
        const connectionId = await assertLanding(tab, ctx, url, { status: "fail", error, zone, flowId: flow.id });
        // A slow Peaka answers after the worker gave up, so its call is recorded late.
        const calls = await eventually(
          () => standinCalls(ctx, zone, connectionId, "exchange"),
          (c) => c.length > 0,
        );
        assert.equal(calls.length, 1, "one call to Peaka");
        assert.equal(await tab.page.textContent("#error"), error);
      } finally {
        await tab.page.close();
      }
    },
  };
}

const replayCase = {
  name: "2.b.3 us: revisiting the callback replays the outcome without a second exchange",
  file: "2b3-us-replay",
  async run(ctx) {
    const tab = await openTab(ctx.browser);
    try {
      await connectAndDecide(tab, ctx.stack, { flowId: "2b3-get", zone: "us", decision: "approve" });
      const first = await settleOn(tab, (u) => u.pathname === "/connected");
      const urls = pageUrls(ctx.stack);
      const callback = navigations(tab.requests).find((r) => where(r.url, urls) === `exchange:${CALLBACK_PATH}`);
      assert.ok(callback, "went through the edge callback");
      ctx.seen.codes.add(paramsOf(callback).get("code") ?? "");
      // What a reload or a second tab on the callback URL does.
      await tab.page.goto(callback.url);
      const again = new URL(tab.page.url());
      await ctx.screenshot(tab, "2b3-us-replay");
      assert.equal(again.pathname, "/connected");
      assert.equal(again.searchParams.get("status"), "success");
      const connectionId = first.searchParams.get("connectionId") ?? "";
      assert.equal(again.searchParams.get("connectionId"), connectionId);
      assert.equal(standinCalls(ctx, "us", connectionId, "exchange").length, 1, "Peaka exchanged the code once");

      // The same callback handed to Peaka again: the platform refuses the spent code.
      const standin = ctx.stack.standins.us;
      const api = new URL(
        `/api/v1/connections/${encodeURIComponent(standin.ctx.options.projectId)}/oauth2`,
        `http://127.0.0.1:${standin.port}`,
      );
      const replay = await fetch(api, {
        method: "POST",
        headers: { Authorization: `Bearer ${ctx.stack.secrets.apiKey}`, "Content-Type": "application/json" },
        body: JSON.stringify({ queryParameters: new URL(callback.url).search.slice(1) }),
        signal: AbortSignal.timeout(10_000),
      });
      assert.equal(replay.status, 400, "a replayed code is refused");
      assert.equal((await replay.json()).error, "invalid_grant", "by the platform's token endpoint");
      assert.equal(
        standin.ctx.state.connections.get(connectionId)?.status,
        "connected",
        "the connection stays connected",
      );
    } finally {
      await tab.page.close();
    }
  },
};

function misregisteredCase(zone) {
  const flow = MISREGISTERED_FLOW;
  const clientId = flow.clientId ?? "";
  return {
    name: `2.b.3 ${zone}: OAuth app registered with another redirect URI, the platform refuses with its own page`,
    file: `${flow.id}-${zone}`,
    async run(ctx) {
      const tab = await openTab(ctx.browser);
      const urls = pageUrls(ctx.stack);
      const codesBefore = ctx.stack.platform.codesIssued(clientId);
      try {
        await tab.page.goto(`${ctx.stack.urls.app}/`);
        const clicked = Date.now();
        await tab.page.click(`#connect-${flow.id}-${zone}`);
        const platformOrigin = new URL(ctx.stack.urls.platform).origin;
        // Refusing is quick; a hang would show as a missed deadline here.
        await settleOn(tab, (u) => u.origin === platformOrigin && u.pathname === "/auth", 5000);
        const heading = (await tab.page.textContent("#platform-error h1", { timeout: 2000 })) ?? "";
        const ms = Date.now() - clicked;
        await ctx.screenshot(tab, `${flow.id}-${zone}`);
        assert.ok(ms < 5000, `the error page shows within 5 s (took ${ms} ms)`);
        assert.equal(tab.statuses.get(tab.page.url()), 400, "the platform answers 400");
        assert.match(heading, /redirect URI is not registered/, "a clear headline");
        assert.equal(await tab.page.textContent("#error"), "invalid_redirect_uri");
        const exchangeCallback = new URL(CALLBACK_PATH, ctx.stack.urls.exchange).href;
        assert.equal(await tab.page.textContent("#requested-redirect-uri"), exchangeCallback, "names the refused URI");

        const consent = new URL(authorizationRequest(tab.requests, urls)?.url ?? "");
        assert.equal(consent.searchParams.get("client_id"), clientId);
        assert.equal(
          consent.searchParams.get("redirect_uri"),
          exchangeCallback,
          "the consent URL names the worker's callback, which the app's registration lacks",
        );
        const state = consent.searchParams.get("state");
        if (state) ctx.seen.states.add(state);
        assert.deepEqual(
          navigations(tab.requests).map((r) => `${r.method} ${where(r.url, urls)}`),
          ["GET app:/", "POST app:/connect", "GET exchange:/oauth2/begin", "GET platform:/auth"],
          "the browser stops at the platform: bound at the worker's startUrl, then no worker callback, so the worker never received a code",
        );
        assert.equal(ctx.stack.platform.codesIssued(clientId), codesBefore, "the platform issued no code");
        const connection = ctx.stack.standins[zone].ctx.state.connectionForState(state);
        assert.equal(connection?.status, "pending", "Peaka's connection stays pending");
        assert.equal(
          standinCalls(ctx, zone, connection?.id, "exchange").length,
          0,
          "Peaka was never asked to exchange",
        );
      } finally {
        await tab.page.close();
      }
    },
  };
}

function tokenCase(zone) {
  return {
    name: `1 token connection ${zone}: no consent screen, no redirect through the worker`,
    file: `1-${zone}-token`,
    async run(ctx) {
      const tab = await openTab(ctx.browser);
      try {
        await tab.page.goto(`${ctx.stack.urls.app}/`);
        await tab.page.click(`#connect-${TOKEN_FLOW.id}-${zone}`);
        const url = await settleOn(tab, (u) => u.pathname === "/connected");
        await ctx.screenshot(tab, `1-${zone}-token`);
        assert.deepEqual(
          navigations(tab.requests).map((r) => `${r.method} ${where(r.url, pageUrls(ctx.stack))}`),
          ["GET app:/", "POST app:/connect", "GET app:/connected"],
        );
        assert.equal(url.searchParams.get("status"), "success");
        const connectionId = url.searchParams.get("connectionId") ?? "";
        assert.match(connectionId, new RegExp(`^${zone}-`), "created in the requested zone");
        const connection = ctx.stack.standins[zone].ctx.state.connections.get(connectionId);
        assert.equal(connection?.status, "connected");
        assert.equal(connection?.type, "stripe");
      } finally {
        await tab.page.close();
      }
    },
  };
}

const noRecordCase = {
  name: "completion without a stored record falls back to DEFAULT_RETURN_URL",
  file: "no-record-fallback",
  async run(ctx) {
    const tab = await openTab(ctx.browser);
    try {
      await tab.page.goto(`${ctx.stack.urls.app}/`);
      await ctx.screenshot(tab, "demo-home");
      await tab.page.click("#no-record");
      const url = await settleOn(tab, (u) => u.pathname === "/connected");
      await ctx.screenshot(tab, "no-record-fallback");
      assert.equal(url.origin, new URL(ctx.stack.urls.app).origin);
      assert.equal(url.searchParams.get("via"), "default");
      assert.equal(url.searchParams.get("connectionId"), "never-started-0001");
      assert.equal(url.searchParams.get("status"), "success");
      assert.deepEqual(
        navigations(tab.requests).map((r) => `${r.method} ${where(r.url, pageUrls(ctx.stack))}`),
        ["GET app:/", `GET relay:${COMPLETE_PATH}`, "GET app:/connected"],
      );
    } finally {
      await tab.page.close();
    }
  },
};

const errorPageCase = {
  name: "completion without a record or default shows the built-in error page",
  file: "error-page",
  async run(ctx) {
    const tab = await openTab(ctx.browser);
    try {
      await tab.page.goto(`${ctx.stack.urls.app}/`);
      const [response] = await Promise.all([tab.page.waitForNavigation(), tab.page.click("#error-page")]);
      const url = new URL(tab.page.url());
      await ctx.screenshot(tab, "error-page");
      assert.equal(url.origin, new URL(ctx.stack.urls.exchange).origin, "stays on the edge worker");
      assert.equal(url.pathname, COMPLETE_PATH);
      assert.equal(response?.status(), 404);
      const headers = response?.headers() ?? {};
      assert.match(headers["content-security-policy"] ?? "", /default-src 'none'/, "restrictive CSP");
      assert.equal(headers["cache-control"], "no-store");
      const text = (await tab.page.textContent("body")) ?? "";
      assert.match(text, /never-started-0002/, "the page names the connectionId");
      assert.match(text, /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/, "and a request id");
      assert.equal(await tab.page.locator("script").count(), 0, "no scripts on the error page");
      // The stylesheet is a static asset (/assets/page.css): it loads under the page's CSP.
      const maxWidth = await tab.page.evaluate(() => getComputedStyle(document.body).maxWidth);
      assert.equal(maxWidth, "576px", "the page's stylesheet applies");
    } finally {
      await tab.page.close();
    }
  },
};

/**
 * The browser binding: a flow's callback opened in a second browser (another
 * profile, so none of the first one's cookies) is refused with 403 before the
 * code leaves the worker, and the platform sees no second call.
 */
function secondBrowserCase(flowId, zone) {
  const flow = flowById(flowId);
  return {
    name: `${flow?.option} ${zone}: the callback opened in a second browser is refused (browser_mismatch)`,
    file: `${flowId}-${zone}-second-browser`,
    async run(ctx) {
      const tab = await openTab(ctx.browser);
      const other = await launchBrowser(freshProfile());
      try {
        await connectAndDecide(tab, ctx.stack, { flowId, zone, decision: "approve" });
        const landed = await settleOn(tab, (u) => u.pathname === "/connected");
        const connectionId = landed.searchParams.get("connectionId") ?? "";
        const urls = pageUrls(ctx.stack);
        const callback = navigations(tab.requests).find((r) => where(r.url, urls).endsWith(`:${CALLBACK_PATH}`));
        assert.ok(callback, "went through the edge callback");
        ctx.seen.codes.add(paramsOf(callback).get("code") ?? "");
        const exchangesBefore = standinCalls(ctx, zone, connectionId, "exchange").length;
        const callbacksBefore = standinCalls(ctx, zone, connectionId, "callback").length;

        const stranger = await other.context.newPage();
        const response = await stranger.goto(callback.url);
        await ctx.screenshot({ page: stranger, requests: [], statuses: new Map() }, `${flowId}-${zone}-second-browser`);
        assert.equal(response?.status(), 403, "the second browser is refused");
        assert.equal(new URL(stranger.url()).pathname, CALLBACK_PATH, "and stays on the worker");
        assert.match((await stranger.content()) ?? "", /browser_mismatch/);
        assert.equal(standinCalls(ctx, zone, connectionId, "exchange").length, exchangesBefore, "no second exchange");
        assert.equal(standinCalls(ctx, zone, connectionId, "callback").length, callbacksBefore, "no second relay");
      } finally {
        await tab.page.close();
        await other.close();
      }
    },
  };
}

/** Waits for the consent screen in a page (a popup, or the tab itself). */
async function consentScreen(page, stack) {
  const platformOrigin = new URL(stack.urls.platform).origin;
  await page.waitForURL((url) => url.origin === platformOrigin && url.pathname.startsWith("/interaction/"));
}

/**
 * Popup mode: the demo's popup button runs the flow in a popup, whose last
 * page (the worker's, not a redirect) posts the outcome to the demo page;
 * the page never leaves "/" and its backend verifies the signed result.
 */
function popupCase(flowId, zone, decision) {
  const flow = flowById(flowId);
  return {
    name: `popup ${flow?.option} ${flowId} ${zone} ${decision}: the outcome reaches the opener, which stays on its page`,
    file: `popup-${flowId}-${zone}-${decision}`,
    async run(ctx) {
      const tab = await openTab(ctx.browser);
      try {
        const popup = await openPopup(tab, ctx.stack, { flowId, zone });
        await consentScreen(popup.page, ctx.stack);
        // Forgeries in the worker's message shape: from the popup on another
        // origin (the platform's page), and from the opener page itself.
        const forged = {
          source: "peaka-connect-edge",
          sessionId: "cs_forged",
          status: "success",
          connectionId: "forged",
        };
        await popup.page.evaluate((m) => window.opener.postMessage(m, "*"), forged);
        await tab.page.evaluate((m) => window.postMessage(m, "*"), forged);
        await tab.page.waitForTimeout(300);
        assert.equal(await tab.page.textContent("#popup-state"), "waiting for the popup", "forgeries are ignored");
        const closed = popup.page.waitForEvent("close");
        await popup.page.click(decision === "approve" ? "#approve" : "#deny");
        await closed;
        const outcome = await popupOutcome(tab, "resolved");
        await ctx.screenshot(tab, `popup-${flowId}-${zone}-${decision}`);

        const urls = pageUrls(ctx.stack);
        assertCodeStaysBehind(popup, ctx, { expectCode: decision === "approve" });
        const last = navigations(popup.requests).at(-1);
        assert.ok(last, "the popup made requests");
        const place = where(last.url, urls);
        assert.ok(place.startsWith(`${flow?.worker}:`), `the popup ended on the worker (${place})`);
        assert.equal(popup.statuses.get(last.url), 200, "on its popup page, not a 303");
        const headers = popup.headers.get(last.url) ?? {};
        assert.match(headers["content-security-policy"] ?? "", /^default-src 'none'; script-src 'self';/);
        assert.equal(headers["cross-origin-opener-policy"], undefined, "no COOP on the popup page");
        assert.equal(headers["cache-control"], "no-store");
        assert.ok(
          !navigations(popup.requests).some((r) => where(r.url, urls).startsWith("app:/connected")),
          "the popup never loaded the return URL",
        );
        assert.deepEqual(
          navigations(tab.requests)
            .filter((r) => r.method === "GET" && where(r.url, urls).startsWith("app:"))
            .map((r) => where(r.url, urls)),
          ["app:/"],
          "the opener never left its page",
        );

        const ownCallback = flow?.worker === "exchange";
        assert.equal(outcome.status, decision === "approve" ? "success" : "fail");
        assert.equal(
          outcome.error,
          decision === "approve" ? "none" : ownCallback ? "access_denied" : "connection_failed",
          "error",
        );
        assert.match(outcome.connectionId, new RegExp(`^${zone}-[0-9a-f-]{36}$`), "connectionId from the right zone");
        assert.match(outcome.result, new RegExp(`^verified \\(${outcome.status} via `), "the backend verified result");
        const connection = ctx.stack.standins[zone].ctx.state.connections.get(outcome.connectionId);
        assert.equal(connection?.status, decision === "approve" ? "connected" : ownCallback ? "pending" : "failed");
      } finally {
        await tab.page.close();
      }
    },
  };
}

const popupClosedCase = {
  name: "popup closed by the user on the consent screen: connect() rejects with window_closed",
  file: "popup-closed",
  async run(ctx) {
    const tab = await openTab(ctx.browser);
    try {
      const popup = await openPopup(tab, ctx.stack, { flowId: "2b3-get", zone: "us" });
      await consentScreen(popup.page, ctx.stack);
      await popup.page.close();
      const outcome = await popupOutcome(tab, "rejected");
      await ctx.screenshot(tab, "popup-closed");
      assert.equal(outcome.error, "window_closed");
      assert.equal(new URL(tab.page.url()).pathname, "/", "the page stays");
    } finally {
      await tab.page.close();
    }
  },
};

/**
 * A popup opened without a user gesture in a Chromium whose popup blocker is
 * on (Playwright turns it off by default): connect() rejects with
 * popup_blocked, or with fallback "redirect" takes the page itself through
 * the flow, whose popup page, finding no opener, redirects to the return URL.
 */
const popupBlockedCase = {
  name: "popup blocked by the browser: popup_blocked, and the full-page fallback ends on the return URL",
  file: "popup-blocked",
  async run(ctx) {
    const blocking = await launchBrowser(freshProfile(), { popupBlocking: true });
    try {
      const tab = await openTab(blocking.context);
      let popups = 0;
      blocking.context.on("page", () => popups++);
      await tab.page.goto(`${ctx.stack.urls.app}/?popup=2b3-get-us`);
      const blocked = await popupOutcome(tab, "rejected");
      assert.equal(blocked.error, "popup_blocked");
      assert.equal(popups, 0, "no window opened");

      await tab.page.goto(`${ctx.stack.urls.app}/?popup=2b3-get-us&fallback=redirect`);
      await consentScreen(tab.page, ctx.stack);
      await tab.page.click("#approve");
      const url = await settleOn(tab, (u) => u.pathname === "/connected");
      await ctx.screenshot(tab, "popup-blocked-fallback");
      assert.equal(popups, 0, "still no window opened");
      const urls = pageUrls(ctx.stack);
      const callback = navigations(tab.requests).findLast((r) => where(r.url, urls) === `exchange:${CALLBACK_PATH}`);
      assert.ok(callback, "the page went through the worker's callback");
      ctx.seen.codes.add(paramsOf(callback).get("code") ?? "");
      assert.equal(tab.statuses.get(callback.url), 200, "which answered the popup page, not a 303");
      await assertLanding(tab, ctx, url, { status: "success", zone: "us", flowId: "2b3-get" });
    } finally {
      await blocking.close();
    }
  },
};

/**
 * What the docs warn about: a partner page with
 * `Cross-Origin-Opener-Policy: same-origin` loses its popup as soon as it
 * goes to the worker. connect() reports window_closed; the popup carries on
 * and, with no opener, ends on the return URL in its own window.
 */
const popupCoopCase = {
  name: "popup from a page with COOP same-origin: window_closed at once, the popup ends on the return URL",
  file: "popup-coop",
  async run(ctx) {
    const tab = await openTab(ctx.browser);
    try {
      const popup = await openPopup(tab, ctx.stack, { flowId: "2b3-get", zone: "eu", path: "/?coop=same-origin" });
      const outcome = await popupOutcome(tab, "rejected");
      assert.equal(outcome.error, "window_closed", "the opener lost its popup");
      await consentScreen(popup.page, ctx.stack);
      await popup.page.click("#approve");
      const url = await settleOn(popup, (u) => u.pathname === "/connected");
      await ctx.screenshot(popup, "popup-coop");
      await assertLanding(popup, ctx, url, { status: "success", zone: "eu", flowId: "2b3-get" });
      const urls = pageUrls(ctx.stack);
      const callback = navigations(popup.requests).findLast((r) => where(r.url, urls) === `exchange:${CALLBACK_PATH}`);
      if (callback) ctx.seen.codes.add(paramsOf(callback).get("code") ?? "");
      await popup.page.close();
    } finally {
      await tab.page.close();
    }
  },
};

/** Every case, in the order they run. */
export function allCases() {
  const cases = [];
  for (const flow of FLOWS) {
    for (const zone of ZONES) for (const decision of ["approve", "deny"]) cases.push(flowCase(flow, zone, decision));
  }
  cases.push(
    faultCase("us", "500", "peaka_unavailable"),
    faultCase("eu", "garbage", "peaka_rejected"),
    faultCase("us", "slow", "peaka_unavailable"),
    replayCase,
    secondBrowserCase("2b2-get", "us"),
    secondBrowserCase("2b3-get", "eu"),
    misregisteredCase("us"),
    misregisteredCase("eu"),
    tokenCase("us"),
    tokenCase("eu"),
    noRecordCase,
    errorPageCase,
    popupCase("2a", "us", "approve"),
    popupCase("2b2-post", "eu", "approve"),
    popupCase("2b3-get", "us", "approve"),
    popupCase("2b3-post", "eu", "deny"),
    popupClosedCase,
    popupBlockedCase,
    popupCoopCase,
    ...riveryCases(),
  );
  return cases;
}
