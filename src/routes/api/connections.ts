import type { Context } from "hono";
import { allowedReturnUrl, chooseZone } from "../../connections/inputs";
import { registerReturn, startConnection } from "../../connections/start";
import type { AppEnv } from "../../http/context";
import { AppFailure } from "../../http/failures";
import { CONNECTION_ID } from "../../http/query";
import { readJson } from "./body";
import { CreateConnectionRequest, RegisterReturnRequest } from "./schemas";

/** `POST /api/v1/connections`: create a connection in Peaka and remember where the user started. */
export async function createConnectionRoute(c: Context<AppEnv>): Promise<Response> {
  const config = c.get("config");
  const log = c.get("log");
  log.mode = config.mode;
  const input = await readJson(c.req.raw, CreateConnectionRequest);
  const returnUrl = allowedReturnUrl(config, input.returnUrl);
  const zone = chooseZone(c, input.zone);
  log.zone = zone;
  const started = await startConnection(c, { ...input, returnUrl, zone });
  log.outcome = started.consentUrl ? "created" : "created_without_consent";
  return c.json(
    {
      connectionId: started.connectionId,
      ...(started.consentUrl ? { consentUrl: started.consentUrl } : {}),
      zone: started.zone,
      expiresAt: new Date(started.expiresAt).toISOString(),
      ...(started.warnings.length > 0 ? { warnings: started.warnings } : {}),
    },
    201,
  );
}

/** `PUT /api/v1/connections/{connectionId}/return`: only remember the way back, for partners who call Peaka themselves. */
export async function registerReturnRoute(c: Context<AppEnv>): Promise<Response> {
  const config = c.get("config");
  const log = c.get("log");
  log.mode = config.mode;
  const connectionId = c.req.param("connectionId") ?? "";
  if (!CONNECTION_ID.test(connectionId)) {
    throw new AppFailure("invalid_request", {
      detail: "connectionId must be 1-128 characters of A-Z, a-z, 0-9, _ and -.",
      fields: [{ field: "connectionId", problem: "must be 1-128 characters of A-Z, a-z, 0-9, _ and -" }],
    });
  }
  log.connectionId = connectionId;
  const input = await readJson(c.req.raw, RegisterReturnRequest);
  const returnUrl = allowedReturnUrl(config, input.returnUrl);
  const zone = chooseZone(c, input.zone);
  log.zone = zone;
  const registered = await registerReturn(c, { connectionId, returnUrl, zone, consentUrl: input.consentUrl });
  log.outcome = "registered";
  return c.json({
    connectionId,
    zone,
    expiresAt: new Date(registered.expiresAt).toISOString(),
    ...(registered.warnings.length > 0 ? { warnings: registered.warnings } : {}),
  });
}
