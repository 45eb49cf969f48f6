import type { Context } from "hono";
import type { AppEnv } from "./context";
import { CSP_TAIL } from "./headers";

/**
 * Only its script (public/assets/wait.js: opens the consent popup, polls the
 * status, goes to `next` or posts a popup session's outcome to its opener)
 * and the shared stylesheet, both from this origin (see PAGE_CSP for why
 * 'self' is safe), fetches to this origin; nothing inline.
 */
export const WAIT_CSP = `default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; ${CSP_TAIL}`;

/**
 * The page's markup is a static asset outside /assets/ (public/pages/wait.html,
 * which no route serves as it is), so its text costs the bundle nothing;
 * HTMLRewriter adds the data the script reads and drops the steps once the
 * session is over. The rewriter encodes `"` in an attribute value but not
 * `&`, which a browser would read as a character reference (`&not-` is `¬-`):
 * attr() encodes it first.
 */
const TEMPLATE = "/pages/wait.html";

const attr = (value: string) => value.replaceAll("&", "&amp;");

/** The page a Rivery session's startUrl answers. `authUri` absent: the session is over, the page only polls. */
export async function renderWaitPage(
  c: Context<AppEnv>,
  input: { authUri?: string | undefined; statusUrl: string },
): Promise<Response> {
  const { authUri, statusUrl } = input;
  const template = await c.env.ASSETS.fetch(new URL(TEMPLATE, c.req.url));
  return new HTMLRewriter()
    .on("body", {
      element(body) {
        if (authUri !== undefined) body.setAttribute("data-auth", attr(authUri));
        body.setAttribute("data-status", attr(statusUrl));
      },
    })
    .on("#s", {
      element(steps) {
        if (authUri === undefined) steps.remove();
      },
    })
    .transform(new Response(template.body));
}
