/**
 * What a "defined outcome" means, as checks that return problems instead of
 * throwing: a hardening test counts the cases that went wrong (for the
 * figures) and then asserts there were none.
 */

export type Expected =
  | {
      /** The user goes back to the stored return URL with the outcome. */
      readonly kind: "return";
      readonly returnUrl: string;
      /** Absent when no connection exists yet (Peaka failed to create one). */
      readonly connectionId?: string;
      readonly status: "success" | "fail";
      readonly error?: string;
    }
  | {
      /** The built-in error page (or JSON for API clients) naming the failure. */
      readonly kind: "page";
      readonly httpStatus: number;
      readonly code: string;
      readonly connectionId?: string;
      readonly json?: boolean;
    }
  | {
      /** A relay: 307 to exactly this Location. */
      readonly kind: "relay";
      readonly location: string;
    }
  | {
      /** The partner's ERROR_URL with the failure code. */
      readonly kind: "error_url";
      readonly errorUrl: string;
      readonly code: string;
      readonly connectionId?: string;
    };

// Stack frames as V8 prints them ("    at fn (file.ts:1:2)") or bare file positions.
export const STACK_TRACE = /\n\s+at\s|\.(?:ts|js|mjs):\d+:\d+/;

export interface Judged {
  readonly problems: string[];
  readonly body: string;
}

/** Reads the response (once) and lists every way it differs from the expected outcome. */
export async function judge(res: Response, expected: Expected): Promise<Judged> {
  const problems: string[] = [];
  const body = await res.text();
  const requestId = res.headers.get("x-request-id");
  const location = res.headers.get("location");
  if (!requestId) problems.push("no X-Request-Id header");
  if (STACK_TRACE.test(body)) problems.push("stack trace in body");
  if (res.headers.get("cache-control") !== "no-store") problems.push("missing Cache-Control: no-store");

  if (expected.kind === "relay") {
    if (res.status !== 307) problems.push(`status ${res.status}, expected 307`);
    if (location !== expected.location)
      problems.push(`Location ${location?.slice(0, 120)}, expected ${expected.location}`);
    return { problems, body };
  }

  if (expected.kind === "return" || expected.kind === "error_url") {
    if (res.status !== 303) problems.push(`status ${res.status}, expected 303`);
    if (!location) {
      problems.push("no Location");
      return { problems, body };
    }
    const target = new URL(location);
    const base = new URL(expected.kind === "return" ? expected.returnUrl : expected.errorUrl);
    if (target.origin !== base.origin || target.pathname !== base.pathname) {
      problems.push(`redirected to ${`${target.origin}${target.pathname}`.slice(0, 120)}, expected ${base.href}`);
    }
    const params = target.searchParams;
    const want: Record<string, string | undefined> =
      expected.kind === "return"
        ? { connectionId: expected.connectionId, status: expected.status, error: expected.error }
        : { error: expected.code, connectionId: expected.connectionId, requestId: requestId ?? undefined };
    for (const [name, value] of Object.entries(want)) {
      const got = params.get(name) ?? undefined;
      if (got !== value) problems.push(`${name}=${got ?? "(absent)"}, expected ${value ?? "(absent)"}`);
    }
    return { problems, body };
  }

  if (res.status !== expected.httpStatus) problems.push(`status ${res.status}, expected ${expected.httpStatus}`);
  if (location) problems.push(`unexpected Location ${location.slice(0, 120)}`);
  const type = res.headers.get("content-type") ?? "";
  if (expected.json) {
    if (!type.startsWith("application/json")) problems.push(`content-type ${type}, expected JSON`);
    let parsed: Record<string, unknown> = {};
    try {
      parsed = JSON.parse(body) as Record<string, unknown>;
    } catch {
      problems.push("body is not JSON");
    }
    if (parsed.error !== expected.code) problems.push(`error ${String(parsed.error)}, expected ${expected.code}`);
    if (parsed.requestId !== requestId) problems.push("JSON requestId differs from X-Request-Id");
    if (expected.connectionId !== undefined && parsed.connectionId !== expected.connectionId) {
      problems.push(`connectionId ${String(parsed.connectionId)}, expected ${expected.connectionId}`);
    }
  } else {
    if (!type.startsWith("text/html")) problems.push(`content-type ${type}, expected HTML`);
    if (!body.includes(`<code>${expected.code}</code>`)) problems.push(`page does not name ${expected.code}`);
    if (requestId && !body.includes(requestId)) problems.push("page does not show the request id");
    if (expected.connectionId !== undefined && !body.includes(expected.connectionId)) {
      problems.push("page does not show the connection id");
    }
  }
  return { problems, body };
}

export interface LogExpectation {
  readonly route: string;
  readonly status: number;
  /** The failure code the request line must carry (absent: none). */
  readonly error?: string;
  /** The error class the request line must name as its cause. */
  readonly cause?: string;
  readonly connectionId?: string;
  /** Peaka's status, for a fault that is a non-2xx answer. */
  readonly peakaStatus?: number;
  /** The line's level: a platform or storage fault is `error` whatever the HTTP status. */
  readonly level?: "info" | "warn" | "error";
}

/** Checks the one request log line of the last request. */
export function judgeLog(lines: Record<string, unknown>[], expected: LogExpectation): string[] {
  const requests = lines.filter((line) => line.msg === "request");
  const line = requests.at(-1);
  if (!line) return ["no request log line"];
  const problems: string[] = [];
  const want: Record<string, unknown> = {
    route: expected.route,
    status: expected.status,
    error: expected.error,
    ...(expected.cause !== undefined ? { cause: expected.cause } : {}),
    ...(expected.connectionId !== undefined ? { connectionId: expected.connectionId } : {}),
    peakaStatus: expected.peakaStatus,
    ...(expected.level !== undefined ? { level: expected.level } : {}),
  };
  for (const [name, value] of Object.entries(want)) {
    if (line[name] !== value) problems.push(`log ${name}=${String(line[name])}, expected ${String(value)}`);
  }
  return problems;
}
