// Stand-ins for the parts of Hono this worker never calls, swapped in by
// wrangler.toml's [alias] when the bundle is built: Hono's classes reach them
// from methods (app.mount, c.req.parseBody, c.req.query, c.html with a
// template object), so tree-shaking cannot drop them, and they cost about
// 1.8 KiB gzip of a bundle every cold start loads. The worker reads queries
// raw (edge/query.ts) and bodies itself. test/architecture.test.ts fails when
// the source starts to use one; to use it, remove its line from [alias].

function leftOut(name) {
  return () => {
    throw new Error(`Hono's ${name} is left out of this bundle (wrangler.toml [alias]).`);
  };
}

/** hono/dist/utils/mount.js: app.mount(). */
export const createMountedRequest = leftOut("app.mount()");

/** hono/dist/helper/route/index.js: Hono's classes reach it only from app.mount(). */
export const routePath = leftOut("app.mount()");

/** hono/dist/utils/body.js: c.req.parseBody(). */
export const parseBody = leftOut("c.req.parseBody()");

/** hono/dist/utils/html.js: c.html() with hono/html or JSX content (a plain string never reaches it). */
export const HtmlEscapedCallbackPhase = {};
export const resolveCallback = leftOut("c.html() with hono/html or JSX content");

/**
 * hono/dist/utils/url.js, but for c.req.query() and c.req.queries(): the rest
 * (paths, route patterns, parameter decoding) is Hono's own.
 */
export {
  checkOptionalParameter,
  decodeURIComponent_,
  getPath,
  getPathNoStrict,
  getPattern,
  getQueryStrings,
  mergePath,
  splitPath,
  splitRoutingPath,
  tryDecode,
  tryDecodeURI,
  tryDecodeURIComponent,
} from "hono/utils/url";
export const getQueryParam = leftOut("c.req.query()");
export const getQueryParams = leftOut("c.req.queries()");
