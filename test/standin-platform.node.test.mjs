// The local stack's platform and Peaka stand-in without a browser: what
// oidc-provider enforces (exact redirect URIs, `iss`, codes bound to a client
// and spent once) and that the stand-in connects only when the token request
// succeeds. The browser suite (npm run test:e2e) runs the same parts with the
// worker in between; this one pins the stand-in's side of it.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { freePort } from "../scripts/lib/stack.mjs";
import { clientSecretFor, MISREGISTERED_FLOW, oauthApps, peakaApps, platformClients } from "../standin/flows.mjs";
import { startStandin } from "../standin/peaka.mjs";
import { startProvider } from "../standin/provider.mjs";
import { FAULT_CHOICES } from "../standin/state.mjs";

const API_KEY = "standin-test-key";
const PROJECT = "test_project";
const COMPLETE = "https://app.example.com/complete";
const EXCHANGE_CALLBACK = "http://localhost:1/oauth2/mycallback";

let platform;
let standin;

before(async () => {
  const port = await freePort();
  const origin = `http://localhost:${port}`;
  const apps = oauthApps({
    peakaCallbacks: { us: `${origin}/oauth2/callback`, eu: "http://localhost:2/oauth2/callback" },
    workers: { relay: "http://localhost:3", exchange: new URL(EXCHANGE_CALLBACK).origin },
  });
  platform = await startProvider({
    port: 0,
    clients: platformClients(apps),
    faults: { choices: FAULT_CHOICES, choose: (state, fault) => standin.ctx.state.chooseFault(state, fault) },
    quiet: true,
  });
  standin = await startStandin({
    zone: "us",
    port,
    origin,
    projectId: PROJECT,
    apiKey: API_KEY,
    platform: { issuer: platform.issuer, authorizationUrl: platform.authorizationUrl, tokenUrl: platform.tokenUrl },
    apps: peakaApps(apps),
    quiet: true,
  });
});

after(async () => {
  await standin?.close();
  await platform?.close();
});

/** A browser's cookie jar over fetch, enough for the platform's interaction cookies. */
function browser() {
  const jar = new Map();
  return async (url, init = {}) => {
    const cookie = [...jar].map(([name, value]) => `${name}=${value}`).join("; ");
    const response = await fetch(url, { ...init, headers: { ...init.headers, cookie }, redirect: "manual" });
    for (const line of response.headers.getSetCookie()) {
      const [pair = ""] = line.split(";");
      const at = pair.indexOf("=");
      jar.set(pair.slice(0, at), pair.slice(at + 1));
    }
    return response;
  };
}

async function api(path, body) {
  const response = await fetch(new URL(`/api/v1/connections/${PROJECT}${path}`, `http://127.0.0.1:${standin.port}`), {
    method: "POST",
    headers: { Authorization: `Bearer ${API_KEY}`, "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: response.status, json: await response.json() };
}

/**
 * Opens the consent URL, decides, and returns the platform's answer as
 * parameters (from the 303's Location or the form_post page).
 */
async function consent(consentUrl, decision, fault = "none") {
  const go = browser();
  const platformBase = `http://127.0.0.1:${platform.port}`;
  const start = new URL(consentUrl);
  let response = await go(`${platformBase}${start.pathname}${start.search}`);
  assert.equal(response.status, 303, "the platform starts an interaction");
  const interaction = new URL(response.headers.get("location") ?? "", platformBase);
  response = await go(interaction);
  assert.equal(response.status, 200);
  assert.match(await response.text(), /id="approve"/);
  response = await go(interaction, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ decision, fault }),
  });
  assert.equal(response.status, 303);
  response = await go(new URL(response.headers.get("location") ?? "", platformBase));
  if (response.status === 303) {
    const location = new URL(response.headers.get("location") ?? "");
    return { to: `${location.origin}${location.pathname}`, params: location.searchParams, mode: "query" };
  }
  const html = await response.text();
  const action = /action="([^"]+)"/.exec(html)?.[1] ?? "";
  const params = new URLSearchParams();
  const entities = { "&amp;": "&", "&lt;": "<", "&gt;": ">", "&quot;": '"', "&#39;": "'" };
  for (const [, name, value] of html.matchAll(/name="([^"]+)" value="([^"]*)"/g)) {
    params.append(
      name,
      value.replace(/&amp;|&lt;|&gt;|&quot;|&#39;/g, (entity) => entities[entity]),
    );
  }
  return { to: action, params, mode: "form_post" };
}

async function peakaCallback(params) {
  const response = await fetch(new URL(`/oauth2/callback?${params}`, `http://127.0.0.1:${standin.port}`), {
    redirect: "manual",
  });
  assert.equal(response.status, 302);
  return new URL(response.headers.get("location") ?? "").searchParams;
}

describe("the platform and Peaka's callback (2.a)", () => {
  it("consent URL at the platform, code and iss back, redeemed once at the token endpoint", async () => {
    const created = await api("", { name: "c", type: "google_analytics", connectionCallback: COMPLETE });
    assert.equal(created.status, 200);
    const url = new URL(created.json.url);
    assert.equal(url.origin + url.pathname, platform.authorizationUrl);
    assert.equal(url.searchParams.get("client_id"), "peaka-us-app");
    assert.equal(url.searchParams.get("redirect_uri"), `${standin.origin}/oauth2/callback`);
    assert.equal(url.searchParams.get("response_type"), "code");
    assert.match(url.searchParams.get("state") ?? "", /^us \+\/.*=$/, "a state with a space, + / and =");

    const answer = await consent(url.href, "approve");
    assert.equal(answer.to, `${standin.origin}/oauth2/callback`);
    assert.equal(answer.params.get("iss"), platform.issuer, "RFC 9207 iss");
    assert.equal(answer.params.get("state"), url.searchParams.get("state"));
    const first = await peakaCallback(answer.params);
    assert.equal(first.get("status"), "success");
    const connection = standin.ctx.state.connections.get(created.json.id);
    assert.equal(connection.status, "connected");

    const again = await peakaCallback(answer.params);
    assert.equal(again.get("status"), "fail", "a spent code is refused by the platform");
    assert.equal(connection.status, "connected", "and does not undo the connection");
    assert.equal(standin.ctx.state.calls.at(-1)?.detail, "invalid_grant");
  });

  it("deny: error=access_denied with iss from the platform itself", async () => {
    const created = await api("", { name: "c", type: "google_analytics", connectionCallback: COMPLETE });
    const answer = await consent(created.json.url, "deny");
    assert.equal(answer.params.get("error"), "access_denied");
    assert.equal(answer.params.get("iss"), platform.issuer);
    assert.equal(answer.params.get("code"), null);
    assert.equal((await peakaCallback(answer.params)).get("status"), "fail");
    assert.equal(standin.ctx.state.connections.get(created.json.id).status, "failed");
  });

  it("a response without the platform's iss is refused before any code is spent", async () => {
    const created = await api("", { name: "c", type: "google_analytics", connectionCallback: COMPLETE });
    const answer = await consent(created.json.url, "approve");
    const forged = new URLSearchParams(answer.params);
    forged.set("iss", "https://attacker.example");
    assert.equal((await peakaCallback(forged)).get("status"), "fail");
    forged.delete("iss");
    assert.equal((await peakaCallback(forged)).get("status"), "fail");
    assert.equal((await peakaCallback(answer.params)).get("status"), "success", "the code was still unspent");
  });
});

describe("the exchange endpoint (2.b.3)", () => {
  const credential = (clientId, clientSecret) => ({
    clientId,
    clientSecret,
    redirectUrl: EXCHANGE_CALLBACK,
  });

  it("form_post from the platform, client_secret_post at the token endpoint, then invalid_grant on replay", async () => {
    const clientId = "demo-exchange-formpost-app";
    const created = await api("", {
      name: "c",
      type: "google_analytics",
      credential: credential(clientId, clientSecretFor(clientId)),
    });
    assert.equal(new URL(created.json.url).searchParams.get("response_mode"), "form_post");
    const answer = await consent(created.json.url, "approve");
    assert.equal(answer.mode, "form_post");
    assert.equal(answer.to, EXCHANGE_CALLBACK);
    const queryParameters = answer.params.toString();
    const first = await api("/oauth2", { queryParameters });
    assert.equal(first.status, 200);
    assert.equal(first.json.id, created.json.id);
    const replay = await api("/oauth2", { queryParameters });
    assert.equal(replay.status, 400);
    assert.equal(replay.json.error, "invalid_grant");
  });

  it("a wrong client secret fails at the token endpoint, and the connection stays unconnected", async () => {
    const created = await api("", {
      name: "c",
      type: "google_analytics",
      credential: credential("demo-exchange-app", "not-the-secret"),
    });
    const answer = await consent(created.json.url, "approve");
    const result = await api("/oauth2", { queryParameters: answer.params.toString() });
    assert.equal(result.status, 400);
    assert.equal(result.json.error, "invalid_client");
    assert.equal(standin.ctx.state.connections.get(created.json.id).status, "pending");
  });

  it("the fault chosen on the consent screen applies, and no code is spent by it", async () => {
    const created = await api("", {
      name: "c",
      type: "google_analytics",
      credential: credential("demo-exchange-app", clientSecretFor("demo-exchange-app")),
    });
    const answer = await consent(created.json.url, "approve", "500");
    const result = await api("/oauth2", { queryParameters: answer.params.toString() });
    assert.equal(result.status, 500);
    const connection = standin.ctx.state.connections.get(created.json.id);
    assert.equal(connection.fault, "500");
    connection.fault = "none";
    assert.equal((await api("/oauth2", { queryParameters: answer.params.toString() })).status, 200);
  });

  it("an OAuth app registered with another redirect URI: the platform's own 400 page, no code", async () => {
    const clientId = MISREGISTERED_FLOW.clientId;
    const before = platform.codesIssued(clientId);
    const created = await api("", {
      name: "c",
      type: "google_analytics",
      credential: credential(clientId, clientSecretFor(clientId)),
    });
    const url = new URL(created.json.url);
    const response = await fetch(`http://127.0.0.1:${platform.port}${url.pathname}${url.search}`, {
      redirect: "manual",
    });
    assert.equal(response.status, 400);
    assert.equal(response.headers.get("location"), null, "no redirect anywhere");
    const html = await response.text();
    assert.match(html, /redirect URI is not registered/);
    assert.match(html, /invalid_redirect_uri/);
    const secretPart = url.searchParams.get("state")?.split(" ")[1] ?? "";
    assert.ok(secretPart && !html.includes(secretPart), "the page does not show the state");
    assert.equal(platform.codesIssued(clientId), before);
  });
});
