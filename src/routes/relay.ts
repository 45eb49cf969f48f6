import type { Context } from "hono";
import { requireZoneSetting } from "../config/load";
import type { Config, Zone } from "../config/types";
import type { AppEnv } from "../http/context";
import { causeName } from "../http/log";
import { rawQuery, readFormBody, rejectDuplicates } from "../http/query";
import { redirect } from "../http/respond";
import { Store } from "../store/store";
import { type ZoneSource, zoneForHost } from "../zones/select";

/**
 * Guide 2.b.2: the OAuth app's redirect URI lives on the partner's domain and
 * forwards to Peaka's callback with a 307, query string byte for byte, so
 * the browser repeats a form_post body too. Provider parameters are not
 * interpreted beyond the duplicate check and reading `state` for the zone.
 */
export async function relay(c: Context<AppEnv>): Promise<Response> {
  const config = c.get("config");
  const log = c.get("log");
  log.route = "relay";
  log.mode = "relay";

  const raw = rawQuery(c.req.url);
  const query = new URLSearchParams(raw);
  const sources = [query];
  if (c.req.method === "POST") sources.push(new URLSearchParams(await readFormBody(c.req.raw)));
  rejectDuplicates(...sources);

  const state = sources.map((params) => params.get("state")).find((value) => value !== null) ?? undefined;
  const { zone, source } = await relayZone(c, config, state);
  log.zone = zone;
  log.source = source;

  const callback = requireZoneSetting(config.zones[zone], "callbackUrl");
  log.outcome = "relayed";
  return redirect(raw === "" ? callback : `${callback}?${raw}`, 307);
}

/**
 * With one relay zone there is nothing to decide and no KV read: this route
 * sits on every OAuth callback's path. With two, the state record written at
 * start names the zone; a missing record or a KV failure falls back to the
 * host mapping rather than blocking the user.
 */
async function relayZone(
  c: Context<AppEnv>,
  config: Config,
  state: string | undefined,
): Promise<{ zone: Zone; source: ZoneSource }> {
  const url = new URL(c.req.url);
  if (config.relayZones.length < 2 || state === undefined) return zoneForHost(config, url);
  try {
    const record = await new Store(c.env.CONNECTIONS, config.recordTtlSeconds).getState(state);
    if (record) {
      c.get("log").connectionId = record.connectionId;
      return { zone: record.zone, source: "record" };
    }
  } catch (error) {
    c.get("log").cause = causeName(error);
  }
  return zoneForHost(config, url);
}
