// Peaka's own OAuth callback (guide steps 8-10): GET, or POST for a
// form_post the edge worker relayed with a 307. Checks state and `iss`,
// redeems the code at the platform's token endpoint, then redirects to the
// connection's connectionCallback with connectionId and status.

import { HttpError, redirect, requestParams } from "./http.mjs";
import { issuerMatches, redeemCode } from "./platform-client.mjs";

/**
 * The partner callback URL with connectionId and status. With
 * `completionStyle: "guide"` it is written the way Peaka's guide prints it,
 * `?connectionId=X?status=Y` (a second `?`), so the worker's tolerance of that
 * form is exercised too; each part is still serialised by URLSearchParams.
 * @param {string} callback @param {string} connectionId @param {"success" | "fail"} status @param {"standard" | "guide"} style
 */
export function completionUrl(callback, connectionId, status, style) {
  const url = new URL(callback);
  if (style === "guide") {
    const id = new URLSearchParams({ connectionId }).toString();
    const result = new URLSearchParams({ status }).toString();
    url.search = url.search ? `${url.search.slice(1)}&${id}?${result}` : `${id}?${result}`;
    return url;
  }
  url.searchParams.append("connectionId", connectionId);
  url.searchParams.append("status", status);
  return url;
}

/** @param {import("./peaka.mjs").StandinContext} ctx */
export async function peakaCallback(ctx, req, res, url) {
  const { state, options } = ctx;
  const params = await requestParams(req, url);
  for (const name of ["code", "state"]) {
    if (params.getAll(name).length > 1) throw new HttpError(400, "invalid_request", `"${name}" appears twice.`);
  }
  const connection = state.connectionForState(params.get("state"));
  if (!connection) {
    state.record({ call: "callback", status: 400, detail: "unknown_state" });
    throw new HttpError(400, "invalid_state", "Peaka does not know this authorization request (unknown state).");
  }
  if (!connection.connectionCallback) {
    state.record({ call: "callback", status: 400, connectionId: connection.id, detail: "own_callback" });
    throw new HttpError(400, "invalid_request", "This connection uses its own callback; Peaka's is not part of it.");
  }
  let status = "fail";
  let detail = "";
  if (!issuerMatches(options.platform, params)) {
    detail = "iss_mismatch";
  } else if (params.has("error")) {
    connection.status = "failed";
  } else {
    const redeemed = await redeemCode(options.platform, connection, params.get("code"));
    if (redeemed.ok) {
      connection.status = "connected";
      status = "success";
    } else {
      detail = redeemed.error;
      // A replayed callback must not undo a connection that already succeeded.
      if (connection.status === "pending") connection.status = "failed";
    }
  }
  state.record({ call: "callback", status: 302, connectionId: connection.id, detail: detail || status });
  redirect(res, completionUrl(connection.connectionCallback, connection.id, status, options.completionStyle), 302);
}
