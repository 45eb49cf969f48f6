import type { Context } from "hono";
import { requirePublicOrigin } from "../../core/binding";
import { openWaiting, pollSession } from "../../platforms/rivery/flow";
import type { AppEnv } from "../context";
import { renderWaitPage, WAIT_CSP } from "../wait-page";

/** `GET /oauth2/wait?s=…&t=…`: a Rivery session's startUrl. Binds this browser and answers the waiting page. */
export async function wait(c: Context<AppEnv>): Promise<Response> {
  const deps = c.get("deps");
  deps.log.route = "wait";
  requirePublicOrigin(deps);
  const params = new URL(c.req.url).searchParams;
  const waiting = await openWaiting(deps, params.get("s") ?? "", params.get("t"));
  const page = await renderWaitPage(c, waiting);
  const headers = new Headers({
    "Content-Type": "text/html; charset=utf-8",
    "Content-Security-Policy": WAIT_CSP,
    "X-Frame-Options": "DENY",
  });
  for (const cookie of waiting.setCookies ?? []) headers.append("Set-Cookie", cookie);
  return new Response(page.body, { headers });
}

/** `GET /oauth2/sessions/{sessionId}`: the waiting page's poll, for the bound browser; JSON `{status, connectionId?, next?}`. */
export async function sessionStatus(c: Context<AppEnv>): Promise<Response> {
  const deps = c.get("deps");
  deps.log.route = "session_status";
  requirePublicOrigin(deps);
  return c.json(await pollSession(deps, c.req.param("sessionId") ?? ""));
}
