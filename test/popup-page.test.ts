import { describe, expect, it } from "vitest";
import type { PopupMessage, Redirect } from "../src/core/way-back";
import { POPUP_JS } from "../src/edge/assets";
import { POPUP_CSP, renderPopupPage } from "../src/edge/popup-page";
import { redirect } from "../src/edge/respond";
import { HOST } from "./fixtures/start";
import { call } from "./helpers/worker";

/*
 * The popup flow's last page (src/edge/popup-page.ts): it posts the outcome
 * to window.opener at exactly the return URL's origin, with a CSP that allows
 * only its one constant script (public/assets/popup.js), and falls back to
 * the normal redirect.
 */

const MESSAGE: PopupMessage = {
  source: "peaka-connect-edge",
  sessionId: "cs_AAAAAAAAAAAAAAAAAAAAAAAA",
  connectionId: "conn_1",
  status: "success",
  result: "eyJ.eyJ.sig",
};

function popupWay(location: string, message: PopupMessage = MESSAGE, targetOrigin = new URL(location).origin) {
  return { location, status: 303 as const, popup: { targetOrigin, message } };
}

/** The page's parts, found the way a browser finds them. */
async function partsOf(res: Response) {
  const html = await res.text();
  const scripts = [...html.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)];
  const json = scripts.filter((m) => m[1]?.includes('type="application/json"'));
  const code = scripts.filter((m) => !m[1]?.includes("type="));
  expect(json, "one data element").toHaveLength(1);
  expect(code, "one script").toHaveLength(1);
  expect(code[0]?.[2], "nothing inline").toBe("");
  const data = JSON.parse(json[0]?.[2] ?? "") as { t: string; m: PopupMessage; l: string };
  return { html, data, src: code[0]?.[1]?.match(/^ src="([^"]+)"$/)?.[1] };
}

describe("the popup page", () => {
  it.each([
    ["https://app.example.com/connected?flow=2a", "https://app.example.com"],
    ["https://app.example.com:8443/a/b#frag", "https://app.example.com:8443"],
    ["http://localhost:3000/connected?x=1&y=2", "http://localhost:3000"],
    ["https://bücher.example/back", "https://xn--bcher-kva.example"],
    ["https://user@app.example.com/back", "https://app.example.com"],
  ])("posts to the return URL's origin, never '*': %s", async (location, origin) => {
    const res = renderPopupPage(popupWay(location));
    const { data } = await partsOf(res);
    expect(data.t).toBe(origin);
    expect(data.t).not.toBe("*");
    expect(data.l).toBe(location);
    expect(data.m).toEqual(MESSAGE);
  });

  it("refuses a target origin that is not the location's", () => {
    for (const target of ["*", "https://evil.example", "https://app.example.com:444", "null"]) {
      expect(() => renderPopupPage(popupWay("https://app.example.com/back", MESSAGE, target))).toThrow(
        /not the return origin/,
      );
    }
    // An opaque origin ("null") is no target either, even when both sides say it.
    expect(() => renderPopupPage(popupWay("data:text/html,x", MESSAGE, "null"))).toThrow();
  });

  it("escapes the data: a </script> in any value stays inside the JSON element", async () => {
    const hostile = '</script><script>alert(1)</script><!--"\u2028&amp;';
    const message: PopupMessage = { ...MESSAGE, status: "fail", error: hostile, result: hostile };
    const location = `https://app.example.com/back?e=${encodeURIComponent(hostile)}&raw=</script>`;
    const res = renderPopupPage(popupWay(location, message));
    const { html, data, src } = await partsOf(res);
    expect(data.m).toEqual(message);
    expect(data.l).toBe(location);
    expect(src).toBe(POPUP_JS);
    expect(html.match(/<script/g)).toHaveLength(2);
    expect(html).not.toContain("alert(1)</script>");
    // The fallback link is escaped HTML, not markup.
    expect(html).toContain('href="https://app.example.com/back?e=');
    expect(html).not.toMatch(/href="[^"]*<\/script>/);
  });

  it("allows only its own script, from the worker's origin, nothing inline", async () => {
    const res = renderPopupPage(popupWay("https://app.example.com/back"));
    const { src } = await partsOf(res);
    expect(src).toBe(POPUP_JS);
    expect(src).toMatch(/^\/assets\/popup\.js\?v=[0-9a-f]{8}$/);
    const csp = res.headers.get("content-security-policy") ?? "";
    expect(csp).toBe(POPUP_CSP);
    expect(csp).toMatch(/^default-src 'none'; script-src 'self';/);
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toMatch(/unsafe|style-src|connect-src/);
  });

  it("answers 200 HTML, never cached or framed, without a COOP that would cut the opener", async () => {
    const res = renderPopupPage({
      ...popupWay("https://app.example.com/back"),
      setCookies: ["__Host-pce-a=; Max-Age=0"],
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(res.headers.get("referrer-policy")).toBe("no-referrer");
    expect(res.headers.get("x-frame-options")).toBe("DENY");
    expect(res.headers.get("cross-origin-opener-policy")).toBeNull();
    expect(res.headers.getSetCookie()).toEqual(["__Host-pce-a=; Max-Age=0"]);
  });

  it("falls back to the normal redirect: the script replaces the location without an opener", async () => {
    const location = "https://app.example.com/connected?connectionId=conn_1&status=success";
    const { html, data, src } = await partsOf(renderPopupPage(popupWay(location)));
    const served = await call(`${HOST}${src}`);
    expect(served.status).toBe(200);
    const script = await served.text();
    expect(data.l).toBe(location);
    expect(script).toContain("location.replace(d.l)");
    expect(script).toContain("o.postMessage(d.m,d.t)");
    expect(html).toContain(`href="${location.replace("&", "&amp;")}"`);
  });
});

describe("redirect(): the edge's way back", () => {
  it("renders the popup page for a way back with popup, a 303 otherwise", async () => {
    const way: Redirect = { ...popupWay("https://app.example.com/back"), setCookies: ["a=b"] };
    const page = redirect(way);
    expect(page.status).toBe(200);
    expect(page.headers.get("location")).toBeNull();
    expect(page.headers.getSetCookie()).toEqual(["a=b"]);
    expect((await partsOf(page)).data.t).toBe("https://app.example.com");
    const plain = redirect({ location: "https://app.example.com/back", status: 303, setCookies: ["a=b"] });
    expect(plain.status).toBe(303);
    expect(plain.headers.get("location")).toBe("https://app.example.com/back");
    expect(plain.headers.getSetCookie()).toEqual(["a=b"]);
  });
});
