/// <reference types="vite/client" />
import { describe, expect, it } from "vitest";
import { ASSET_CACHE, PAGE_CSS, POPUP_JS, WAIT_JS } from "../src/edge/assets";
import { PAGE_CSP } from "../src/edge/headers";
import { renderWaitPage } from "../src/edge/wait-page";
import { HOST } from "./fixtures/start";
import { captureLogs } from "./helpers/logs";
import { API_CLIENT, BROWSER, call } from "./helpers/worker";

/*
 * The pages' script and style are static assets (public/assets/), served
 * through the worker with its headers but, unlike every other answer, cached
 * for a year: so each URL names its file's content.
 */

const logs = captureLogs();

// public/ as deployed (Vite reads it at build time), by path under public/.
// Vitest blanks CSS files (its `css` option), so a stylesheet reads "" here.
const PUBLIC = Object.fromEntries(
  Object.entries(import.meta.glob<string>("../public/**/*", { query: "?raw", import: "default", eager: true })).map(
    ([path, text]) => [path.replace("../public/", ""), text],
  ),
);

const ASSETS = [
  [WAIT_JS, "assets/wait.js", /^(text|application)\/javascript/],
  [POPUP_JS, "assets/popup.js", /^(text|application)\/javascript/],
  [PAGE_CSS, "assets/page.css", /^text\/css/],
] as const;

async function sha256Hex(text: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
  return [...digest].map((b) => b.toString(16).padStart(2, "0")).join("");
}

describe("GET /assets/*", () => {
  it.each(ASSETS)("%s is the file, with the worker's headers and a year's cache", async (url, file, type) => {
    const res = await call(`${HOST}${url}`, { headers: BROWSER });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(type);
    const text = await res.text();
    if (file.endsWith(".js")) expect(text).toBe(PUBLIC[file]);
    else expect(text).toMatch(/^body\{font:16px/);
    expect(res.headers.get("cache-control")).toBe(ASSET_CACHE);
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.headers.get("referrer-policy")).toBe("no-referrer");
    expect(res.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    expect(logs.json().find((entry) => entry.msg === "request")).toMatchObject({
      route: "asset",
      method: "GET",
      status: 200,
      level: "info",
    });
  });

  it.each(ASSETS)("%s names its file's content: a changed file needs a new URL", async (url, file) => {
    const [path, version] = url.split("?v=");
    expect(path).toBe(`/${file}`);
    const served = await (await call(`${HOST}${url}`)).text();
    expect(served.length).toBeGreaterThan(100);
    // On failure: put the new first 8 hex digits into src/edge/assets.ts.
    expect(version).toBe((await sha256Hex(served)).slice(0, 8));
  });

  it("HEAD answers the headers without a body; a matching If-None-Match answers 304, still cacheable", async () => {
    const get = await call(`${HOST}${WAIT_JS}`);
    await get.arrayBuffer();
    const head = await call(`${HOST}${WAIT_JS}`, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.headers.get("content-type")).toMatch(/javascript/);
    expect(head.headers.get("cache-control")).toBe(ASSET_CACHE);
    expect(await head.text()).toBe("");
    const cached = await call(`${HOST}${WAIT_JS}`, { headers: { "if-none-match": get.headers.get("etag") ?? "" } });
    expect(cached.status).toBe(304);
    expect(cached.headers.get("cache-control")).toBe(ASSET_CACHE);
  });

  it("an unknown asset is the usual 404, not cached", async () => {
    for (const path of ["/assets/nope.js", "/assets/", "/assets/wait.js/x"]) {
      const res = await call(`${HOST}${path}`, { headers: API_CLIENT });
      expect(res.status, path).toBe(404);
      expect(await res.json()).toMatchObject({ error: "not_found" });
      expect(res.headers.get("cache-control")).toBe("no-store");
    }
    const page = await call(`${HOST}/assets/nope.css`, { headers: BROWSER });
    expect(page.status).toBe(404);
    expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(page.headers.get("cache-control")).toBe("no-store");
  });

  it("only GET and HEAD", async () => {
    const res = await call(`${HOST}${WAIT_JS}`, { method: "POST", headers: API_CLIENT });
    expect(res.status).toBe(404);
    expect(res.headers.get("cache-control")).toBe("no-store");
  });

  it("serves the stylesheet even when the configuration is broken: the error page links it", async () => {
    const broken = { PEAKA_TIMEOUT_MS: "soon" };
    const page = await call(`${HOST}/nowhere`, { headers: BROWSER }, broken);
    expect(page.status).toBe(500);
    expect(await page.text()).toContain(`<link rel="stylesheet" href="${PAGE_CSS}">`);
    expect(page.headers.get("content-security-policy")).toBe(PAGE_CSP);
    const css = await call(`${HOST}${PAGE_CSS}`, {}, broken);
    expect(css.status).toBe(200);
    expect(css.headers.get("cache-control")).toBe(ASSET_CACHE);
  });
});

describe("'self' in the pages' CSP", () => {
  it("the worker's origin serves script and style only from public/assets/, never anything a user wrote", () => {
    const executable = Object.keys(PUBLIC).filter((path) => /\.(m?js|css)$/.test(path));
    expect(executable.sort()).toEqual(["assets/page.css", "assets/popup.js", "assets/wait.js"]);
  });

  it("the error page: its stylesheet only, nothing inline", async () => {
    const res = await call(`${HOST}/nowhere`, { headers: BROWSER });
    expect(res.status).toBe(404);
    const csp = res.headers.get("content-security-policy") ?? "";
    expect(csp).toBe(PAGE_CSP);
    expect(csp).toMatch(/^default-src 'none'; style-src 'self';/);
    expect(csp).not.toMatch(/unsafe|script-src/);
    const html = await res.text();
    expect(html).toContain(`<link rel="stylesheet" href="${PAGE_CSS}">`);
    expect(html).not.toMatch(/<style|<script| style=/);
  });
});

describe("the waiting page's template (public/pages/wait.html)", () => {
  it("is not served as it is: only the startUrl answers it, with its data", async () => {
    const res = await call(`${HOST}/pages/wait.html`, { headers: BROWSER });
    expect(res.status).toBe(404);
    expect(await res.text()).not.toContain("Allow access in the Rivery window");
  });

  it("loads the current versions of the script and the stylesheet", () => {
    const template = PUBLIC["pages/wait.html"] ?? "";
    expect(template).toContain(`<script src="${WAIT_JS}"></script>`);
    expect(template).toContain(`<link rel="stylesheet" href="${PAGE_CSS}">`);
  });

  it('carries data attributes a browser decodes to the exact values: & and " are encoded', async () => {
    const { env } = await import("cloudflare:workers");
    const context = { env, req: { url: `${HOST}/oauth2/wait` } } as unknown as Parameters<typeof renderWaitPage>[0];
    const authUri = 'https://rivery.example/auth?a=1&not-b=2&copy="x"';
    const html = await (await renderWaitPage(context, { authUri, statusUrl: "/oauth2/sessions/cs_x?a&lt" })).text();
    expect(html).toContain('data-auth="https://rivery.example/auth?a=1&amp;not-b=2&amp;copy=&quot;x&quot;"');
    expect(html).toContain('data-status="/oauth2/sessions/cs_x?a&amp;lt"');
    expect(html).toContain('<div id="s">');
    // A session that is over: no steps, no consent link.
    const over = await (await renderWaitPage(context, { statusUrl: "/oauth2/sessions/cs_x" })).text();
    expect(over).not.toContain('<div id="s">');
    expect(over).not.toContain("data-auth");
  });
});
