// Peaka as an OAuth client of the platform: the consent URL it hands out
// (guide step 3), the `iss` check of RFC 9207 on the authorization response,
// and the code exchange at the token endpoint (RFC 6749 §4.1.3) with the
// OAuth app's client secret. A connection succeeds only if that exchange does.

import { Agent, request } from "node:http";

/**
 * @typedef {object} PlatformEndpoints
 * @property {string} issuer            Expected as `iss` in every authorization response.
 * @property {string} authorizationUrl  The browser's side: where consent URLs point.
 * @property {string} tokenUrl          Server-to-server.
 * @property {number} [timeoutMs]       For the token request; default 5000.
 */

/** The scope Peaka asks for; the platform's one resource knows it. */
export const CONSENT_SCOPE = "read";

/**
 * @param {PlatformEndpoints} platform
 * @param {{ clientId: string, redirectUri: string, state: string, responseMode: "query" | "form_post" }} request
 */
export function consentUrl(platform, { clientId, redirectUri, state, responseMode }) {
  const url = new URL(platform.authorizationUrl);
  url.searchParams.set("response_type", "code");
  url.searchParams.set("client_id", clientId);
  url.searchParams.set("redirect_uri", redirectUri);
  url.searchParams.set("scope", CONSENT_SCOPE);
  url.searchParams.set("state", state);
  if (responseMode === "form_post") url.searchParams.set("response_mode", "form_post");
  return url;
}

/**
 * RFC 9207: the platform announces `iss` on every response, so a response
 * without it, with two, or from another issuer is refused (mix-up defence).
 * @param {PlatformEndpoints} platform @param {URLSearchParams} params
 */
export function issuerMatches(platform, params) {
  const values = params.getAll("iss");
  return values.length === 1 && values[0] === platform.issuer;
}

/** RFC 6749 §2.3.1: id and secret are form-encoded before they are joined and base64-encoded. */
function basicCredentials(clientId, clientSecret) {
  const encode = (value) => encodeURIComponent(value).replaceAll("%20", "+");
  return Buffer.from(`${encode(clientId)}:${encode(clientSecret)}`).toString("base64");
}

/**
 * Redeems a code for the connection's OAuth app. Tokens are dropped: the
 * stand-in only needs to know that the platform accepted the code.
 * @param {PlatformEndpoints} platform
 * @param {import("./state.mjs").Connection} connection
 * @param {string | null} code
 * @returns {Promise<{ ok: true } | { ok: false, error: string }>}
 */
export async function redeemCode(platform, connection, code) {
  if (!code) return { ok: false, error: "no_code" };
  const { clientId, clientSecret, redirectUri, tokenAuth } = connection;
  if (!clientId || !clientSecret || !redirectUri) return { ok: false, error: "no_client" };
  const body = new URLSearchParams({ grant_type: "authorization_code", code, redirect_uri: redirectUri });
  /** @type {Record<string, string>} */
  const headers = { "Content-Type": "application/x-www-form-urlencoded", Accept: "application/json" };
  if (tokenAuth === "client_secret_post") {
    body.set("client_id", clientId);
    body.set("client_secret", clientSecret);
  } else {
    headers.Authorization = `Basic ${basicCredentials(clientId, clientSecret)}`;
  }
  let response;
  try {
    response = await postForm(platform.tokenUrl, headers, body.toString(), platform.timeoutMs ?? 5000);
  } catch {
    return { ok: false, error: "platform_unavailable" };
  }
  let answer;
  try {
    answer = JSON.parse(response.text);
  } catch {
    answer = undefined;
  }
  if (response.status === 200 && typeof answer?.access_token === "string") return { ok: true };
  // invalid_grant for a used, unknown, expired or other client's code.
  return { ok: false, error: typeof answer?.error === "string" ? answer.error : `platform_${response.status}` };
}

// node:http with a keep-alive agent rather than fetch: the load test sends
// thousands of token requests through this process, and fetch costs about
// twice the CPU per request on Node 20. The token endpoint is on loopback
// http, so no https agent is needed.
const agent = new Agent({ keepAlive: true, maxSockets: 64 });

/**
 * @param {string} url @param {Record<string, string>} headers @param {string} body @param {number} timeoutMs
 * @returns {Promise<{ status: number, text: string }>}
 */
function postForm(url, headers, body, timeoutMs) {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: "POST", agent, headers: { ...headers, "Content-Length": Buffer.byteLength(body) }, timeout: timeoutMs },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk) => {
          text += chunk;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
        res.on("error", reject);
      },
    );
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
    req.end(body);
  });
}
