import type { Context } from "hono";
import { rejectDuplicates } from "../../core/callback-params";
import { relayRedirect, relayZone } from "../../platforms/peaka/callbacks";
import type { AppEnv } from "../context";
import { rawQuery, readFormBody } from "../query";
import { redirect } from "../respond";
import { limitCallbacks } from "./callback-limit";

/**
 * Guide 2.b.2 through the router: POST (form_post), two relay zones, and
 * every failure. The common GET is answered before the router (relay-fast.ts).
 * Provider parameters are not interpreted beyond the duplicate check and
 * reading `state` for the zone.
 */
export async function relay(c: Context<AppEnv>): Promise<Response> {
  const deps = c.get("deps");
  deps.log.route = "relay";
  deps.log.mode = "relay";
  await limitCallbacks(c);

  const raw = rawQuery(c.req.url);
  const sources = [new URLSearchParams(raw)];
  if (c.req.method === "POST") sources.push(new URLSearchParams(await readFormBody(c.req.raw)));
  rejectDuplicates(...sources);

  const state = sources.map((params) => params.get("state")).find((value) => value !== null) ?? undefined;
  const { zone, source } = await relayZone(deps, state);
  deps.log.zone = zone;
  deps.log.source = source;
  const target = relayRedirect(deps.config, zone, raw);
  deps.log.outcome = "relayed";
  return redirect(target);
}
