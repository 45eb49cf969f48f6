// Peaka's partner API, as far as the edge worker uses it:
//   POST /api/v1/connections/{projectId}         create a connection (guide step 2)
//   POST /api/v1/connections/{projectId}/oauth2  hand over a callback's query (2.b.3, step 10)

import { bearerMatches, contentType, HttpError, readBody, sendJson, sleep } from "./http.mjs";
import { consentUrl, issuerMatches, redeemCode } from "./platform-client.mjs";

const TYPE = /^[a-z0-9_]{1,64}$/;

/** @param {unknown} value */
function isRecordOfStrings(value) {
  return (
    typeof value === "object" &&
    value !== null &&
    !Array.isArray(value) &&
    Object.values(value).every((v) => typeof v === "string")
  );
}

/** @param {string} text */
function httpUrl(text) {
  try {
    const url = new URL(text);
    return url.protocol === "https:" || url.protocol === "http:" ? url : undefined;
  } catch {
    return undefined;
  }
}

/**
 * @param {import("node:http").IncomingMessage} req
 * @param {{ apiKey: string }} options
 */
async function readAuthorizedJson(req, options) {
  if (!bearerMatches(req.headers.authorization, options.apiKey)) {
    throw new HttpError(401, "unauthorized", "Missing or wrong partner API key.");
  }
  if (contentType(req) !== "application/json") {
    throw new HttpError(415, "unsupported_media_type", "Expected application/json.");
  }
  try {
    return JSON.parse(await readBody(req));
  } catch (error) {
    if (error instanceof HttpError) throw error;
    throw new HttpError(400, "invalid_json", "The body is not JSON.");
  }
}

/**
 * `POST /api/v1/connections/{projectId}`. Token credentials (option 1) create
 * the connection at once; anything else is OAuth and gets a consent URL at the
 * platform's authorization endpoint whose redirect_uri follows the flow:
 * `credential.redirectUrl` (2.b.3), else the OAuth app's redirect URI (2.b.2,
 * the partner's relay), else Peaka's own callback (2.a, 2.b.1). The app's
 * client secret stays with the connection for the code exchange.
 * @param {import("./peaka.mjs").StandinContext} ctx
 */
export async function createConnection(ctx, req, res) {
  const { options, state } = ctx;
  const body = await readAuthorizedJson(req, options);
  if (options.delayMs > 0) await sleep(options.delayMs);

  const problems = [];
  if (typeof body?.name !== "string" || body.name.length === 0 || body.name.length > 200) problems.push("name");
  if (typeof body?.type !== "string" || !TYPE.test(body.type)) problems.push("type");
  if (body?.connectionCallback !== undefined && !httpUrl(body.connectionCallback)) problems.push("connectionCallback");
  if (body?.credential !== undefined && !isRecordOfStrings(body.credential)) problems.push("credential");
  const credential = body?.credential ?? {};
  if (credential.redirectUrl !== undefined && !httpUrl(credential.redirectUrl)) problems.push("credential.redirectUrl");
  if (credential.clientId !== undefined && !credential.clientSecret) problems.push("credential.clientSecret");
  if (problems.length > 0) {
    state.record({ call: "create", status: 400, detail: problems.join(",") });
    throw new HttpError(400, "invalid_request", `Invalid fields: ${problems.join(", ")}.`);
  }

  const tokenBased = credential.token !== undefined || credential.accessToken !== undefined;
  if (tokenBased) {
    const connection = state.addConnection({ name: body.name, type: body.type });
    connection.status = "connected";
    state.record({ call: "create", status: 200, connectionId: connection.id, detail: "token" });
    sendJson(res, 200, { id: connection.id, name: connection.name, type: connection.type });
    return;
  }

  if (credential.redirectUrl === undefined && body.connectionCallback === undefined) {
    state.record({ call: "create", status: 400, detail: "no_callback" });
    throw new HttpError(400, "invalid_request", "OAuth connections need connectionCallback or credential.redirectUrl.");
  }
  const ownApp = credential.clientId === undefined;
  const clientId = credential.clientId ?? options.peakaClientId;
  const app = options.apps[clientId] ?? {};
  const redirectUri = credential.redirectUrl ?? app.redirectUri ?? `${options.origin}/oauth2/callback`;
  const responseMode = app.responseMode ?? "query";
  const connection = state.addConnection({
    name: body.name,
    type: body.type,
    connectionCallback: body.connectionCallback,
    clientId,
    clientSecret: ownApp ? options.peakaClientSecret : credential.clientSecret,
    tokenAuth: app.tokenAuth ?? "client_secret_basic",
    redirectUri,
    responseMode,
  });
  connection.state = state.newState(connection.id);
  const url = consentUrl(options.platform, { clientId, redirectUri, state: connection.state, responseMode });

  state.record({ call: "create", status: 200, connectionId: connection.id, detail: responseMode });
  sendJson(res, 200, { id: connection.id, name: connection.name, type: connection.type, url: url.href });
}

/**
 * `POST /api/v1/connections/{projectId}/oauth2`: the own-callback exchange.
 * Resolves the connection by `state`, checks `iss`, then redeems the code at
 * the platform's token endpoint; only a successful redemption connects. The
 * fault chosen on the consent screen applies before that.
 * @param {import("./peaka.mjs").StandinContext} ctx
 */
export async function exchangeCallback(ctx, req, res) {
  const { options, state } = ctx;
  const body = await readAuthorizedJson(req, options);
  if (options.delayMs > 0) await sleep(options.delayMs);

  if (typeof body?.queryParameters !== "string" || body.queryParameters.length > 16 * 1024) {
    state.record({ call: "exchange", status: 400, detail: "queryParameters" });
    throw new HttpError(400, "invalid_request", "queryParameters must be a string.");
  }
  const params = new URLSearchParams(body.queryParameters);
  const connection = state.connectionForState(params.get("state"));
  if (!connection) {
    state.record({ call: "exchange", status: 400, detail: "unknown_state" });
    throw new HttpError(400, "invalid_state", "Unknown state.");
  }
  if (!issuerMatches(options.platform, params)) {
    state.record({ call: "exchange", status: 400, connectionId: connection.id, detail: "iss_mismatch" });
    throw new HttpError(400, "invalid_request", "The authorization response's iss is missing or not the platform's.");
  }
  if (params.has("error")) {
    connection.status = "failed";
    state.record({ call: "exchange", status: 400, connectionId: connection.id, detail: "provider_error" });
    throw new HttpError(400, "access_denied", "The provider reported an error.");
  }

  const fault = connection.fault ?? "none";
  if (fault === "slow") await sleep(options.slowMs);
  if (fault === "500") {
    state.record({ call: "exchange", status: 500, connectionId: connection.id, detail: "fault_500" });
    sendJson(res, 500, { error: "internal_error", message: "Simulated failure." });
    return;
  }
  if (fault === "garbage") {
    state.record({ call: "exchange", status: 200, connectionId: connection.id, detail: "fault_garbage" });
    res.writeHead(200, { "Content-Type": "text/html" });
    res.end("<html><body>502 Bad Gateway (simulated garbage)</body></html>");
    return;
  }

  const redeemed = await redeemCode(options.platform, connection, params.get("code"));
  if (!redeemed.ok) {
    const status = redeemed.error === "platform_unavailable" ? 502 : 400;
    state.record({ call: "exchange", status, connectionId: connection.id, detail: redeemed.error });
    throw new HttpError(status, redeemed.error, "The platform did not accept the authorization code.");
  }
  connection.status = "connected";
  state.record({ call: "exchange", status: 200, connectionId: connection.id, detail: fault === "slow" ? "slow" : "" });
  sendJson(res, 200, { id: connection.id, name: connection.name, type: connection.type });
}
