import { escapeHtml } from "./error-page";

/**
 * The waiting page's whole script: opens the platform's consent page in a
 * popup (a button when the popup is blocked), polls the session's status
 * every 2 s and goes to `next` when there is one (a popup session's page,
 * opened by connect(), posts the outcome to its opener instead, to the
 * return URL's origin only). Data comes from the body's
 * data attributes, so the script is a constant and the CSP pins its hash.
 */
export const WAIT_SCRIPT =
  'var d=document.body.dataset,w,m=document.getElementById("m");function p(){w=open(d.auth,"rivery","popup");document.getElementById("b").hidden=!!w}if(d.auth){document.getElementById("o").onclick=p;p()}function q(){fetch(d.status,{headers:{Accept:"application/json"}}).then(function(r){return r.json().then(function(j){if(j.next){w&&w.close();var o=j.popup&&opener;if(o&&!o.closed){o.postMessage(j.popup.m,j.popup.t);close()}else location.replace(j.next)}else{r.ok||(m.textContent=j.message);(r.ok||r.status>499)&&setTimeout(q,2e3)}})}).catch(function(){setTimeout(q,4e3)})}setTimeout(q,2e3)';

/** SHA-256 of WAIT_SCRIPT, base64 (test/rivery-page.test.ts recomputes it). */
export const WAIT_SCRIPT_HASH = "sha256-Hb0Srw4Ot+oXn3t0lrB9RvBLmPGNGukTrLMp74P7pRM=";

/** Only that script, fetches to this origin, inline styles; no framing, forms or other resources. */
export const WAIT_CSP = `default-src 'none'; script-src '${WAIT_SCRIPT_HASH}'; connect-src 'self'; style-src 'unsafe-inline'; img-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`;

/** The page a Rivery session's startUrl answers. `authUri` absent: the session is over, the page only polls. */
export function renderWaitPage(input: { authUri?: string | undefined; statusUrl: string }): string {
  const { authUri } = input;
  const steps =
    authUri === undefined
      ? ""
      : `<ol><li>A Rivery window opens (if not, press the button).<li>Sign in there and allow access.<li>That is all: this page notices by itself and takes you back.</ol><p id="b" hidden>Your browser blocked the window.<p><button id="o">Open Rivery</button>`;
  return `<!doctype html><html lang="en"><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>Connect with Rivery</title><style>body{font:16px/1.5 system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem}</style><body${authUri === undefined ? "" : ` data-auth="${escapeHtml(authUri)}"`} data-status="${escapeHtml(input.statusUrl)}"><h1>Allow access in the Rivery window</h1>${steps}<p id="m" role="status">Waiting for your authorisation. Keep this page open.<script>${WAIT_SCRIPT}</script>`;
}
