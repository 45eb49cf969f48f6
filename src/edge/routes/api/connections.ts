import type { Context } from "hono";
import { CONNECTION_ID, CONNECTION_ID_RULE } from "../../../core/callback-params";
import { allowedReturnUrl, chooseZone } from "../../../core/inputs";
import { registerReturn, startWithStartUrl } from "../../../core/session";
import { AppFailure } from "../../../failures/failure";
import { peakaAdapter } from "../../../platforms/peaka/adapter";
import { startRivery } from "../../../platforms/rivery/flow";
import type { AppEnv } from "../../context";
import { readJson } from "./body";
import { CreateConnectionRequest, RegisterReturnRequest } from "./schemas";
// Types only (nothing of spec.ts reaches the bundle): an answer field missing from the OpenAPI document fails to compile.
import type { CreateConnectionResponse, RegisterReturnResponse, RiveryConnectionResponse } from "./spec";

/** `POST /api/v1/connections`: create a connection in Peaka and remember where the user started. */
export async function createConnectionRoute(c: Context<AppEnv>): Promise<Response> {
  const deps = c.get("deps");
  deps.log.mode = deps.config.mode;
  const input = await readJson(c.req.raw, CreateConnectionRequest);
  const returnUrl = allowedReturnUrl(deps.config, input.returnUrl);
  const zone = chooseZone(deps, input.zone);
  deps.log.zone = zone;
  if (input.platform === "rivery") {
    if (input.credential !== undefined) {
      const problem = "is not accepted for Rivery: the user authorises in Rivery's own window";
      throw new AppFailure("invalid_request", {
        detail: `credential ${problem}.`,
        fields: [{ field: "credential", problem }],
      });
    }
    const started = await startRivery(deps, { ...input, returnUrl, zone });
    deps.log.outcome = "created";
    return c.json(
      {
        sessionId: started.sessionId,
        startUrl: started.startUrl,
        zone,
        platform: "rivery",
        expiresAt: new Date(started.expiresAt).toISOString(),
      } satisfies RiveryConnectionResponse,
      201,
    );
  }
  const started = await startWithStartUrl(deps, peakaAdapter, { ...input, returnUrl, zone });
  deps.log.outcome = started.startUrl ? "created" : "created_without_consent";
  return c.json(
    {
      sessionId: started.sessionId,
      connectionId: started.connectionId,
      startUrl: started.startUrl,
      // Only with BROWSER_BINDING=off: otherwise the browser must go through startUrl to be bound.
      consentUrl: started.consentUrl,
      zone: started.zone,
      expiresAt: new Date(started.expiresAt).toISOString(),
      ...(started.warnings.length > 0 ? { warnings: started.warnings } : {}),
    } satisfies CreateConnectionResponse,
    201,
  );
}

/** `PUT /api/v1/connections/{connectionId}/return`: only remember the way back, for partners who call Peaka themselves. */
export async function registerReturnRoute(c: Context<AppEnv>): Promise<Response> {
  const deps = c.get("deps");
  deps.log.mode = deps.config.mode;
  const connectionId = c.req.param("connectionId") ?? "";
  if (!CONNECTION_ID.test(connectionId)) {
    throw new AppFailure("invalid_request", {
      detail: `connectionId ${CONNECTION_ID_RULE}.`,
      fields: [{ field: "connectionId", problem: CONNECTION_ID_RULE }],
    });
  }
  deps.log.connectionId = connectionId;
  const input = await readJson(c.req.raw, RegisterReturnRequest);
  const returnUrl = allowedReturnUrl(deps.config, input.returnUrl);
  if (deps.config.browserBinding === "required" && input.consentUrl === undefined) {
    // Without the consent URL there is no startUrl, and no browser to bind: the callbacks would refuse it.
    const problem = "is required with BROWSER_BINDING=required: the browser starts at the startUrl this answer gives";
    throw new AppFailure("invalid_request", {
      detail: `consentUrl ${problem}.`,
      fields: [{ field: "consentUrl", problem }],
    });
  }
  const zone = chooseZone(deps, input.zone);
  deps.log.zone = zone;
  const registered = await registerReturn(deps, peakaAdapter, { ...input, connectionId, returnUrl, zone });
  deps.log.outcome = "registered";
  return c.json({
    sessionId: registered.sessionId,
    connectionId,
    startUrl: registered.startUrl,
    zone,
    expiresAt: new Date(registered.expiresAt).toISOString(),
    ...(registered.warnings.length > 0 ? { warnings: registered.warnings } : {}),
  } satisfies RegisterReturnResponse);
}
