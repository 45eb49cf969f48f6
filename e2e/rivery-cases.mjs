// Rivery in the browser: the demo's Rivery button starts a session through
// the worker's API; the worker's waiting page opens the Rivery stand-in's
// consent page in a popup and polls; the user ends back in the demo app.

import assert from "node:assert/strict";
import { verifyResult } from "../src/security/result.js";
import { openPopup, openTab, popupOutcome, settleOn } from "./journey.mjs";

/**
 * Clicks the demo's Rivery button and waits for the waiting page and its popup.
 * `blockPopup`: the first window.open (the page's own, without a click) returns null.
 */
async function startRivery(ctx, tab, zone, { blockPopup = false } = {}) {
  const { page } = tab;
  if (blockPopup) {
    await page.addInitScript(() => {
      const real = window.open;
      let first = true;
      window.open = function (...args) {
        if (first) {
          first = false;
          return null;
        }
        return real.apply(this, args);
      };
    });
  }
  await page.goto(`${ctx.stack.urls.app}/`);
  const popupPromise = blockPopup ? undefined : page.context().waitForEvent("page");
  await page.click(`#connect-rivery-${zone}`);
  await page.waitForURL(
    (url) => url.origin === new URL(ctx.stack.urls.relay).origin && url.pathname === "/oauth2/wait",
  );
  const text = (await page.textContent("body")) ?? "";
  assert.match(text, /notices by itself/, "the page says it continues by itself");
  let popup;
  if (blockPopup) {
    assert.equal(await page.isVisible("#b"), true, "the page says the window was blocked");
    await ctx.screenshot(tab, `rivery-${zone}-blocked`);
    [popup] = await Promise.all([page.context().waitForEvent("page"), page.click("#o")]);
  } else {
    popup = await popupPromise;
  }
  await popup.waitForLoadState();
  assert.equal(new URL(popup.url()).origin, new URL(ctx.stack.urls.rivery).origin, "the popup is Rivery's consent");
  return popup;
}

async function assertBack(ctx, tab, expected) {
  const url = await settleOn(tab, (u) => u.pathname === "/connected", 30_000);
  assert.equal(url.origin, new URL(ctx.stack.urls.app).origin);
  assert.equal(url.searchParams.get("flow"), "rivery", "the stored return URL came back");
  assert.equal(url.searchParams.get("status"), expected.status);
  assert.equal(url.searchParams.get("error"), expected.error ?? null);
  const claims = await verifyResult(url.searchParams.get("result") ?? "", ctx.stack.secrets.resultSigningKey, {
    audience: new URL(ctx.stack.urls.app).origin,
  });
  assert.equal(claims.status, expected.status, "the signed result agrees");
  if (expected.status === "success") {
    assert.match(url.searchParams.get("connectionId") ?? "", /^[0-9a-f]{24}$/, "Rivery's _id");
    assert.equal(claims.sub, url.searchParams.get("connectionId"));
  }
  assert.match((await tab.page.textContent("#result")) ?? "", /^verified/);
  return url;
}

function riveryCase(name, file, zone, run) {
  return {
    name: `Rivery ${zone}: ${name}`,
    file,
    async run(ctx) {
      const tab = await openTab(ctx.browser);
      try {
        await run(ctx, tab);
        await ctx.screenshot(tab, file);
      } finally {
        for (const page of ctx.browser.pages()) await page.close().catch(() => {});
      }
    },
  };
}

export function riveryCases() {
  return [
    riveryCase(
      "authorise in the popup, the waiting page takes the user back connected",
      "rivery-us-success",
      "us",
      async (ctx, tab) => {
        const popup = await startRivery(ctx, tab, "us");
        await popup.click("#authorise");
        assert.match((await popup.textContent("body")) ?? "", /"Connected":true/, "Rivery's own dead end");
        await assertBack(ctx, tab, { status: "success" });
      },
    ),
    riveryCase(
      "popup mode: the waiting page is connect()'s popup and hands the outcome to the opener",
      "rivery-eu-popup",
      "eu",
      async (ctx, tab) => {
        const waiting = await openPopup(tab, ctx.stack, { flowId: "rivery", zone: "eu" });
        await waiting.page.waitForURL((url) => url.pathname === "/oauth2/wait");
        // Opened without a click inside the popup, Rivery's window may be
        // blocked: the waiting page's button opens it either way.
        let consent = ctx.browser
          .pages()
          .find((page) => new URL(page.url()).origin === new URL(ctx.stack.urls.rivery).origin);
        if (!consent) {
          [consent] = await Promise.all([waiting.page.context().waitForEvent("page"), waiting.page.click("#o")]);
        }
        await consent.waitForLoadState();
        const closed = waiting.page.waitForEvent("close");
        await consent.click("#authorise");
        await closed;
        const outcome = await popupOutcome(tab, "resolved", 30_000);
        assert.equal(outcome.status, "success");
        assert.match(outcome.connectionId, /^[0-9a-f]{24}$/, "Rivery's _id");
        assert.match(outcome.result, /^verified \(success via /, "the backend verified result");
        assert.equal(new URL(tab.page.url()).pathname, "/", "the opener never left its page");
      },
    ),
    riveryCase("a blocked popup: the button opens it", "rivery-eu-blocked-popup", "eu", async (ctx, tab) => {
      const popup = await startRivery(ctx, tab, "eu", { blockPopup: true });
      await popup.click("#authorise");
      await assertBack(ctx, tab, { status: "success" });
    }),
    riveryCase("never authorising: the session expires", "rivery-us-expired", "us", async (ctx, tab) => {
      // The stand-in's next pull_id says it expires in 4 s; the worker honours it (docs/rivery.md).
      await fetch(new URL("/__standin/expire-next?seconds=4", ctx.stack.urls.rivery), { method: "POST" });
      const popup = await startRivery(ctx, tab, "us");
      await popup.close();
      await assertBack(ctx, tab, { status: "fail", error: "expired" });
    }),
    riveryCase("Rivery refusing the credentials call", "rivery-eu-credentials-fail", "eu", async (ctx, tab) => {
      const popup = await startRivery(ctx, tab, "eu");
      await popup.check('input[name="credentials"][value="refuse"]');
      await popup.click("#authorise");
      await assertBack(ctx, tab, { status: "fail", error: "rivery_rejected" });
    }),
    riveryCase("Rivery failing the connection request", "rivery-us-connection-fail", "us", async (ctx, tab) => {
      const popup = await startRivery(ctx, tab, "us");
      await popup.check('input[name="connection"][value="fail"]');
      await popup.click("#authorise");
      await assertBack(ctx, tab, { status: "fail", error: "rivery_unavailable" });
    }),
  ];
}
