import { PAGE_CSS, WAIT_JS } from "./assets";
import { escapeHtml } from "./error-page";
import { CSP_TAIL } from "./headers";

/**
 * Only its script (public/assets/wait.js: opens the consent popup, polls the
 * status, goes to `next` or posts a popup session's outcome to its opener)
 * and the shared stylesheet, both from this origin (see PAGE_CSP for why
 * 'self' is safe), fetches to this origin; nothing inline.
 */
export const WAIT_CSP = `default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; ${CSP_TAIL}`;

/** The page a Rivery session's startUrl answers. `authUri` absent: the session is over, the page only polls. Data goes to the script in data attributes. */
export function renderWaitPage(input: { authUri?: string | undefined; statusUrl: string }): string {
  const { authUri } = input;
  const steps =
    authUri === undefined
      ? ""
      : `<ol><li>A Rivery window opens (if not, press the button).<li>Sign in there and allow access.<li>That is all: this page notices by itself and takes you back.</ol><p id="b" hidden>Your browser blocked the window.<p><button id="o">Open Rivery</button>`;
  return `<!doctype html><html lang="en"><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>Connect with Rivery</title><link rel="stylesheet" href="${PAGE_CSS}"><body${authUri === undefined ? "" : ` data-auth="${escapeHtml(authUri)}"`} data-status="${escapeHtml(input.statusUrl)}"><h1>Allow access in the Rivery window</h1>${steps}<p id="m" role="status">Waiting for your authorisation. Keep this page open.<script src="${WAIT_JS}"></script>`;
}
