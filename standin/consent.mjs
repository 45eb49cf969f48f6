// The OAuth provider's consent screen (guide steps 5-8). It checks what a
// provider checks (known state, the redirect URI registered for the
// request), then sends the browser to the redirect URI with `code` and
// `state`, or `error=access_denied`, by redirect or by auto-submitted
// form_post when the authorization request asked for response_mode=form_post.

import { escapeHtml, hiddenInputs, layout } from "./html.mjs";
import { HttpError, redirect, requestParams, sendHtml } from "./http.mjs";
import { FAULTS } from "./state.mjs";

const FAULT_LABELS = {
  none: "answers normally",
  slow: "answers too slowly (timeout)",
  500: "answers 500",
  garbage: "answers with garbage",
};

/** @param {import("./peaka.mjs").StandinContext} ctx @param {URLSearchParams} params */
function pendingConnection(ctx, params) {
  const connection = ctx.state.connectionForState(params.get("state"));
  if (connection?.status !== "pending") {
    throw new HttpError(400, "invalid_request", "This authorization request is unknown or already answered.");
  }
  return connection;
}

/** `GET /consent`: Approve / Deny, plus a fault switch for the own-callback exchange. */
export async function consentPage(ctx, _req, res, url) {
  const params = new URLSearchParams(url.search);
  const connection = pendingConnection(ctx, params);
  if (params.get("redirect_uri") !== connection.redirectUri || params.get("client_id") !== connection.clientId) {
    throw new HttpError(400, "redirect_uri_mismatch", "redirect_uri or client_id does not match the OAuth app.");
  }
  const zone = ctx.options.zone.toUpperCase();
  const appName = connection.clientId === ctx.options.peakaClientId ? "Peaka" : `Partner app (${connection.clientId})`;
  const faults = FAULTS.map(
    (fault) =>
      `<label><input type="radio" name="fault" value="${fault}"${fault === "none" ? " checked" : ""}> ${escapeHtml(FAULT_LABELS[fault])}</label>`,
  ).join("");
  const body = `<div class="card">
  <h1>${escapeHtml(appName)} wants to access your ${escapeHtml(connection.type)} data</h1>
  <p>Connection <code>${escapeHtml(connection.name)}</code> in the ${zone} zone. Access requested: <b>read</b>.</p>
  <p class="muted">After you decide, the browser goes to <code id="redirect-uri">${escapeHtml(connection.redirectUri)}</code>
  by ${connection.responseMode === "form_post" ? "an auto-submitted form (response_mode=form_post)" : "a redirect"}.</p>
  <form method="post" action="/consent">
    ${hiddenInputs([["state", params.get("state") ?? ""]])}
    <fieldset><legend class="muted">Stand-in only: Peaka's exchange endpoint then…</legend>${faults}</fieldset>
    <button type="submit" name="decision" value="approve" id="approve">Approve</button>
    <button type="submit" name="decision" value="deny" id="deny" class="secondary">Deny</button>
  </form></div>`;
  ctx.state.record({ call: "consent", status: 200, connectionId: connection.id });
  sendHtml(
    res,
    200,
    layout({ title: "Consent", brand: "Demo Data Platform", tag: `${zone} zone`, accent: "#5b3fd1", body }),
  );
}

/** `POST /consent`: the user's decision. */
export async function consentDecision(ctx, req, res, url) {
  const form = await requestParams(req, url);
  const connection = pendingConnection(ctx, form);
  const decision = form.get("decision");
  const fault = FAULTS.includes(form.get("fault") ?? "") ? form.get("fault") : "none";

  /** @type {[string, string][]} */
  const answer =
    decision === "approve"
      ? [["code", ctx.state.issueCode(connection.id, fault ?? "none")]]
      : [
          ["error", "access_denied"],
          ["error_description", "The user denied access"],
        ];
  answer.push(["state", connection.state ?? ""]);
  ctx.state.record({ call: "consent_decision", status: 200, connectionId: connection.id, detail: decision ?? "" });

  if (connection.responseMode === "form_post") {
    const body = `<div class="card"><h1>Returning to the application…</h1>
  <form method="post" action="${escapeHtml(connection.redirectUri)}">${hiddenInputs(answer)}
  <noscript><button type="submit">Continue</button></noscript></form></div>`;
    sendHtml(
      res,
      200,
      layout({
        title: "Returning…",
        brand: "Demo Data Platform",
        accent: "#5b3fd1",
        body,
        script: "document.forms[0].submit();",
      }),
    );
    return;
  }
  const target = new URL(connection.redirectUri ?? "");
  for (const [name, value] of answer) target.searchParams.append(name, value);
  redirect(res, target, 302);
}
