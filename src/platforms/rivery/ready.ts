import type { RiveryAnswer } from "./client";

/**
 * THE ASSUMPTION (docs/rivery.md): Rivery does not document what
 * `POST /oauth2/credentials` answers before the user has authorised. A 2xx
 * whose body is an object with a non-empty `access_token` means the
 * credentials are ready; any other answer means "not yet", until the
 * session's deadline. (401/403, Rivery refusing our token, never reach here:
 * the client fails on them.) Change only this function if Rivery says more.
 */
export function credentialsReady(answer: RiveryAnswer): answer is RiveryAnswer & { body: Record<string, unknown> } {
  const { status, body } = answer;
  return (
    status >= 200 &&
    status <= 299 &&
    typeof body === "object" &&
    body !== null &&
    !Array.isArray(body) &&
    typeof (body as Record<string, unknown>).access_token === "string" &&
    (body as Record<string, unknown>).access_token !== ""
  );
}
