// A local stand-in for Rivery's OAuth2 connection API (legacy API, as in
// Rivery's community article), US and EU on one origin:
//   POST {api}/oauth2               {datasource_id, validity_duration} → {pull_id, auth_uri}
//   POST {api}/oauth2/credentials   {pull_id, auth_uri} → the credentials once authorised
//   PUT  {api}/connections          {connection_type, connection_name, credentials} → {_id, cross_id, connection_name}
// with {api} = /api (US) or /eu/api (EU). auth_uri is a real page here that a
// browser clicks through (authorise or deny), ending on Rivery's dead end,
// `{"Connected": true}`. Development and tests only.

import { randomBytes } from "node:crypto";
import { escapeHtml, hiddenInputs, layout } from "./html.mjs";
import { bearerMatches, HttpError, handler, listen, readBody, requestParams, sendHtml, sendJson } from "./http.mjs";

const ACCENT = "#6d28d9";
const API_BASES = { "/api": "us", "/eu/api": "eu" };

/** Credential faults, chosen on the consent page (the stand-in's panel). */
export const RIVERY_FAULTS = {
  credentials: ["normal", "refuse"],
  connection: ["normal", "fail"],
};

const b64url = (value) => Buffer.from(value).toString("base64url");

/**
 * @param {{ port: number, origin?: string, token: string, quiet?: boolean }} options
 */
export async function startRivery(options) {
  /** @type {Map<string, { zone: string, datasource: string, exp: number, state: string, authorised: boolean, denied: boolean, faults: { credentials: string, connection: string }, credentials?: Record<string, unknown> }>} */
  const pulls = new Map();
  const calls = [];
  const issued = [];
  let nextExpiresIn;
  let origin = options.origin ?? "";

  const pullKey = (pullId) => {
    try {
      return JSON.parse(Buffer.from(String(pullId).split(".")[1] ?? "", "base64url").toString()).pull_id;
    } catch {
      return undefined;
    }
  };
  const json = async (req) => {
    try {
      return JSON.parse(await readBody(req));
    } catch {
      throw new HttpError(400, "invalid_request", "The body is not JSON.");
    }
  };

  async function api(zone, path, req, res) {
    const kind = `${req.method} ${path}`;
    const answer = (status, body) => {
      calls.push({ zone, kind, status });
      sendJson(res, status, body);
    };
    if (!bearerMatches(req.headers.authorization, options.token)) return answer(401, { message: "unauthorized" });
    if (req.method === "POST" && path === "/oauth2") {
      const body = await json(req);
      const validity = body.validity_duration;
      // Rivery's own quirk: an invalid validity_duration is a 429 "invalid param".
      if (!Number.isInteger(validity) || validity < 300 || validity > 43200)
        return answer(429, { message: "invalid param" });
      if (typeof body.datasource_id !== "string" || body.datasource_id === "")
        return answer(400, { message: "datasource_id" });
      const key = randomBytes(12).toString("hex");
      const iat = Math.floor(Date.now() / 1000);
      const exp = iat + (nextExpiresIn ?? validity);
      nextExpiresIn = undefined;
      const state = randomBytes(16).toString("base64url");
      pulls.set(key, {
        zone,
        datasource: body.datasource_id,
        exp,
        state,
        authorised: false,
        denied: false,
        faults: { credentials: "normal", connection: "normal" },
      });
      const authUri = new URL("/authorize", origin);
      authUri.searchParams.set("pull", key);
      authUri.searchParams.set("state", state);
      const pullId = `${b64url(JSON.stringify({ alg: "HS256", exp, iat }))}.${b64url(JSON.stringify({ pull_id: key }))}.${b64url(randomBytes(32))}`;
      return answer(200, { pull_id: pullId, auth_uri: authUri.href });
    }
    if (req.method === "POST" && path === "/oauth2/credentials") {
      const body = await json(req);
      const pull = pulls.get(pullKey(body.pull_id));
      if (!pull || pull.zone !== zone || typeof body.auth_uri !== "string" || !body.auth_uri.includes(pull.state)) {
        return answer(404, { message: "unknown pull" });
      }
      if (pull.faults.credentials === "refuse") return answer(403, { message: "forbidden" });
      if (Date.now() / 1000 > pull.exp) return answer(410, { message: "pull expired" });
      if (!pull.credentials) return answer(200, { message: "waiting for authorization" });
      return answer(200, pull.credentials);
    }
    if (req.method === "PUT" && path === "/connections") {
      const body = await json(req);
      const access = body.credentials?.access_token;
      const pull = [...pulls.values()].find((p) => p.credentials && p.credentials.access_token === access);
      if (!pull || typeof body.connection_type !== "string" || typeof body.connection_name !== "string") {
        return answer(400, { message: "invalid connection" });
      }
      if (pull.faults.connection === "fail") return answer(500, { message: "internal error" });
      return answer(200, {
        cross_id: randomBytes(8).toString("hex"),
        status_code: 200,
        message: "connection saved",
        _id: randomBytes(12).toString("hex"),
        connection_name: body.connection_name,
      });
    }
    return answer(404, { message: "not found" });
  }

  function consentPage(key, pull) {
    const radios = Object.entries(RIVERY_FAULTS)
      .map(
        ([name, choices]) =>
          `<p>${escapeHtml(name)}: ${choices
            .map(
              (c, i) =>
                `<label><input type="radio" name="${name}" value="${c}"${i === 0 ? " checked" : ""}> ${escapeHtml(c)}</label>`,
            )
            .join("")}</p>`,
      )
      .join("");
    const body = `<div class="card"><h1>Allow Rivery to access your ${escapeHtml(pull.datasource)} data?</h1>
    <p class="muted">Signed in as demo@example.com (${escapeHtml(pull.zone.toUpperCase())} account).</p>
    <form method="post" action="/authorize">${hiddenInputs([["pull", key]])}
    <button type="submit" name="decision" value="authorise" id="authorise">Authorise</button>
    <button type="submit" name="decision" value="deny" id="deny" class="secondary">Deny</button>
    <fieldset><legend>Stand-in faults (not Rivery's)</legend>${radios}</fieldset></form></div>`;
    return layout({
      title: "Rivery stand-in",
      brand: "Rivery stand-in",
      tag: pull.zone.toUpperCase(),
      accent: ACCENT,
      body,
    });
  }

  const route = async (req, res, url) => {
    const { pathname } = url;
    if (!options.quiet) console.log(`[rivery] ${req.method} ${pathname}`);
    for (const [base, zone] of Object.entries(API_BASES)) {
      if (pathname.startsWith(`${base}/`)) return api(zone, pathname.slice(base.length), req, res);
    }
    if (pathname === "/authorize") {
      const params = await requestParams(req, url);
      const key = params.get("pull") ?? "";
      const pull = pulls.get(key);
      if (!pull) throw new HttpError(404, "unknown_pull", "This authorisation link is unknown.");
      if (req.method === "GET") return sendHtml(res, 200, consentPage(key, pull));
      if (params.get("decision") !== "authorise") {
        pull.denied = true;
        return sendJson(res, 200, { Connected: false });
      }
      pull.authorised = true;
      pull.faults = {
        credentials: params.get("credentials") === "refuse" ? "refuse" : "normal",
        connection: params.get("connection") === "fail" ? "fail" : "normal",
      };
      const credentials = {
        application_id: null,
        access_token: `ya29.standin-${randomBytes(12).toString("hex")}`,
        status_code: 200,
        expires_in: 3599,
        token_type: "Bearer",
        client_id: `standin-client-${randomBytes(6).toString("hex")}.apps.example.com`,
        scope: "https://www.googleapis.com/auth/spreadsheets.readonly",
        message: "Connected to Google",
        refresh_token: `1//standin-${randomBytes(12).toString("hex")}`,
      };
      issued.push(credentials.access_token, credentials.refresh_token, credentials.client_id);
      pull.credentials = credentials;
      // Rivery's dead end: the user sees this JSON and nothing more.
      return sendJson(res, 200, { Connected: true });
    }
    // Test switch: the next pull expires after this many seconds (an early end without waiting 300 s).
    if (req.method === "POST" && pathname === "/__standin/expire-next") {
      nextExpiresIn = Number(url.searchParams.get("seconds") ?? "5");
      return sendJson(res, 200, { nextExpiresIn });
    }
    if (req.method === "GET" && pathname === "/__standin/calls") return sendJson(res, 200, calls);
    if (req.method === "GET" && pathname === "/") {
      const body = `<div class="card"><h1>Rivery stand-in</h1><p class="muted">API at <code>${escapeHtml(origin)}/api</code> (US) and <code>${escapeHtml(origin)}/eu/api</code> (EU). Calls: <a href="/__standin/calls">/__standin/calls</a>.</p></div>`;
      return sendHtml(res, 200, layout({ title: "Rivery stand-in", brand: "Rivery stand-in", accent: ACCENT, body }));
    }
    throw new HttpError(404, "not_found", "Nothing here.");
  };

  const server = await listen(
    handler(route, (error) => ({ status: error.status, json: { message: error.message, error: error.code } })),
    options.port,
  );
  if (!origin) origin = `http://localhost:${server.port}`;
  return {
    ...server,
    origin,
    calls,
    /** Every credential the stand-in handed out: the e2e run checks the worker's logs for them. */
    issuedSecrets: () => [...issued],
  };
}
