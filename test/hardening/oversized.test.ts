import { HttpResponse, http } from "msw";
import { describe, expect, it } from "vitest";
import { FAILURES, type FailureCode } from "../../src/failures/codes";
import { API_KEY, peaka, US_API } from "../helpers/peaka";
import { BROWSER } from "../helpers/worker";
import { judge } from "./support/outcome";
import { secret, watchSecrets } from "./support/secrets";
import { type Tally, tallyFor } from "./support/tally";
import { type Send, workerWith } from "./support/worker";

/**
 * Oversized and malformed input at the three browser-facing routes. Each case
 * names the one outcome it must end on; anything else, a 5xx, or a hang (the
 * test's timeout) fails it. Near-limit inputs must still work: a limit that
 * refuses honest traffic is a bug too.
 */

const HOST = "https://connect.example.com";
const CALLBACK = "https://peaka.studio/oauth2/callback";
const FORM = { ...BROWSER, "content-type": "application/x-www-form-urlencoded" };
const KIB = 1024;

type Route = "relay" | "exchange" | "complete";

/** "relayed": a 307 to Peaka's callback with the query unchanged. "peaka": handed to Peaka (which refuses it here). */
type Outcome = FailureCode | "relayed" | "peaka";

interface Case {
  readonly name: string;
  /** The request, given a fresh authorization code to put in it. */
  readonly request: (code: string) => { url: string; init?: RequestInit };
  readonly expect: Outcome;
}

const PATHS: Record<Route, string> = {
  relay: "/oauth2/mycallback",
  exchange: "/oauth2/mycallback",
  complete: "/oauth2/complete",
};

/** A URL of exactly `length` characters on the route: its usual parameters, padded. */
function urlOfLength(route: Route, length: number, code: string): string {
  const params = route === "complete" ? "connectionId=c1&status=success" : `code=${code}&state=s1`;
  const base = `${HOST}${PATHS[route]}?${params}&pad=`;
  return base + "x".repeat(length - base.length);
}

function formOfBytes(bytes: number, code: string): string {
  const base = `code=${code}&state=s1&pad=`;
  return base + "x".repeat(bytes - base.length);
}

/** A body with no Content-Length, delivered in chunks, as a chunked upload arrives. */
function streamed(total: number): ReadableStream<Uint8Array> {
  let sent = 0;
  return new ReadableStream({
    pull(controller) {
      const size = Math.min(4 * KIB, total - sent);
      if (size <= 0) return controller.close();
      controller.enqueue(new TextEncoder().encode("x".repeat(size)));
      sent += size;
    },
  });
}

/** `count` parameters; short values keep even 1,000 of them under the URL limit. */
function manyParams(count: number, name: (i: number) => string): string {
  return Array.from({ length: count }, (_, i) => `${name(i)}=${(i % 36).toString(36)}`).join("&");
}

const get = (route: Route, query: (code: string) => string) => (code: string) => ({
  url: `${HOST}${PATHS[route]}?${query(code)}`,
});

const post =
  (route: Route, body: (code: string) => BodyInit, headers: Record<string, string> = FORM) =>
  (code: string) => ({ url: `${HOST}${PATHS[route]}`, init: { method: "POST", headers, body: body(code) } });

function urlCases(route: Route): Case[] {
  // Under the limit the route does its usual work: relays, asks Peaka, or looks the connection up.
  const within: Outcome = route === "relay" ? "relayed" : route === "exchange" ? "peaka" : "unknown_connection";
  return [
    {
      name: "URL of 16,000 characters",
      request: (code) => ({ url: urlOfLength(route, 16_000, code) }),
      expect: within,
    },
    {
      name: "URL of 16,384 characters (the limit)",
      request: (code) => ({ url: urlOfLength(route, 16 * KIB, code) }),
      expect: within,
    },
    {
      name: "URL of 16,385 characters",
      request: (code) => ({ url: urlOfLength(route, 16 * KIB + 1, code) }),
      expect: "uri_too_long",
    },
    { name: "URL of 64 KiB", request: (code) => ({ url: urlOfLength(route, 64 * KIB, code) }), expect: "uri_too_long" },
    { name: "URL of 1 MiB", request: (code) => ({ url: urlOfLength(route, KIB * KIB, code) }), expect: "uri_too_long" },
  ];
}

function bodyCases(route: "relay" | "exchange"): Case[] {
  return [
    {
      name: "form_post body of exactly 16 KiB",
      request: post(route, (code) => formOfBytes(16 * KIB, code)),
      expect: route === "relay" ? "relayed" : "peaka",
    },
    {
      name: "form_post body of 16 KiB + 1",
      request: post(route, (code) => formOfBytes(16 * KIB + 1, code)),
      expect: "payload_too_large",
    },
    {
      name: "form_post body of 1 MiB",
      request: post(route, (code) => formOfBytes(KIB * KIB, code)),
      expect: "payload_too_large",
    },
    {
      name: "streamed body of 17 KiB without Content-Length",
      request: post(route, () => streamed(17 * KIB)),
      expect: "payload_too_large",
    },
    {
      name: "streamed body of 8 MiB without Content-Length",
      request: post(route, () => streamed(8 * KIB * KIB)),
      expect: "payload_too_large",
    },
    {
      name: "body that is not a form",
      request: post(route, (code) => JSON.stringify({ code }), { ...BROWSER, "content-type": "application/json" }),
      expect: "unsupported_media_type",
    },
    {
      name: "form body with invalid UTF-8",
      request: post(route, () => new Uint8Array([0x63, 0x6f, 0x64, 0x65, 0x3d, 0xff, 0xfe, 0xc0, 0xaf])),
      expect: "invalid_request",
    },
    {
      name: "form body with 1,000 code parameters",
      request: post(route, () => manyParams(1000, () => "code")),
      expect: "duplicate_parameter",
    },
  ];
}

const CASES: Record<Route, Case[]> = {
  relay: [
    ...urlCases("relay"),
    ...bodyCases("relay"),
    {
      name: "1,000 distinct parameters",
      request: get("relay", (code) => `code=${code}&${manyParams(1000, (i) => `p${i}`)}`),
      expect: "relayed",
    },
    {
      name: "1,000 state parameters",
      request: get("relay", (code) => `code=${code}&${manyParams(1000, () => "state")}`),
      expect: "duplicate_parameter",
    },
    {
      name: "invalid percent-escapes",
      request: get("relay", (code) => `code=${code}%zz&state=%&x=%E0%A4%A`),
      expect: "relayed",
    },
    {
      name: "invalid UTF-8 escapes",
      request: get("relay", (code) => `code=${code}%FF%FE&state=%C0%AF%ED%A0%80`),
      expect: "relayed",
    },
  ],
  exchange: [
    ...urlCases("exchange"),
    ...bodyCases("exchange"),
    {
      name: "1,000 code parameters",
      request: get("exchange", () => manyParams(1000, () => "code")),
      expect: "duplicate_parameter",
    },
    {
      name: "1,000 parameters without code or error",
      request: get("exchange", () => manyParams(1000, (i) => `p${i}`)),
      expect: "invalid_request",
    },
    {
      name: "invalid percent-escapes in a denial's state",
      request: get("exchange", () => "error=access_denied&state=%E0%A4%A%zz"),
      expect: "provider_denied",
    },
    {
      name: "invalid UTF-8 in a denial's error",
      request: get("exchange", () => "error=%FF%FE&state=s1"),
      expect: "provider_denied",
    },
  ],
  complete: [
    ...urlCases("complete"),
    {
      name: "1,000 connectionId parameters",
      request: get("complete", () => manyParams(1000, () => "connectionId")),
      expect: "duplicate_parameter",
    },
    {
      name: "1,000 parameters beside a valid connectionId",
      request: get("complete", () => `connectionId=c1&status=success&${manyParams(1000, (i) => `p${i}`)}`),
      expect: "unknown_connection",
    },
    {
      name: "invalid percent-escape in connectionId",
      request: get("complete", () => "connectionId=%zz&status=success"),
      expect: "invalid_request",
    },
    {
      name: "truncated percent-escape in connectionId",
      request: get("complete", () => "connectionId=abc%&status=success"),
      expect: "invalid_request",
    },
    {
      name: "invalid UTF-8 in connectionId",
      request: get("complete", () => "connectionId=%FF%FE&status=success"),
      expect: "invalid_request",
    },
    {
      name: "overlong UTF-8 slash in connectionId",
      request: get("complete", () => "connectionId=a%C0%AFb&status=success"),
      expect: "invalid_request",
    },
    {
      name: "lone surrogate in connectionId",
      request: get("complete", () => "connectionId=%ED%A0%80&status=success"),
      expect: "invalid_request",
    },
    {
      name: "connectionId of 16,000 characters",
      request: get("complete", () => `connectionId=${"a".repeat(16_000)}&status=success`),
      expect: "invalid_request",
    },
  ],
};

async function run(send: Send, c: Case, code: string, tally: Tally, peakaCalls: string[]): Promise<string[]> {
  const { url, init } = c.request(code);
  tally.add("inputsTried");
  const before = peakaCalls.length;
  const res = await send(url, { headers: BROWSER, ...init });
  const problems: string[] = [];
  if (c.expect === "relayed") {
    const query = new URL(url).search.slice(1);
    if (res.status !== 307) problems.push(`status ${res.status}, expected 307`);
    if (res.headers.get("location") !== (query === "" ? CALLBACK : `${CALLBACK}?${query}`)) {
      problems.push("Location differs from Peaka's callback + the raw query");
    }
    await res.body?.cancel();
  } else {
    // Peaka refuses every code in these tests, so a case that reaches it ends on peaka_rejected.
    const code = c.expect === "peaka" ? "peaka_rejected" : c.expect;
    problems.push(...(await judge(res, { kind: "page", httpStatus: FAILURES[code].status, code })).problems);
  }
  // Anything over a limit or malformed is refused before a byte goes to Peaka.
  const reachedPeaka = peakaCalls.length > before;
  if (reachedPeaka !== (c.expect === "peaka")) problems.push(`Peaka called: ${reachedPeaka}`);
  // Served although it should have been refused, or a 5xx other than Peaka's own refusal (502).
  const refusal = c.expect !== "relayed" && c.expect !== "peaka";
  const accepted = refusal
    ? res.status < 400 || res.status >= 500 || reachedPeaka
    : res.status >= 500 && !(c.expect === "peaka" && res.status === 502);
  if (accepted) {
    tally.add("inputsAccepted");
    problems.push("accepted");
  }
  return problems.map((p) => `${c.name}: ${p}`);
}

describe("oversized and malformed input", () => {
  for (const route of ["relay", "exchange", "complete"] as const) {
    const title = `${route}: each of ${CASES[route].length} cases ends on its defined answer, never a 5xx or a hang`;
    it(title, { timeout: 60_000 }, async ({ task }) => {
      const tally = tallyFor(task);
      const watch = watchSecrets(tally);
      const peakaCalls: string[] = [];
      peaka.use(
        http.post(`${US_API}/connections/proj_test/oauth2`, async ({ request }) => {
          peakaCalls.push(await request.text());
          return HttpResponse.json({ message: "invalid code" }, { status: 400 });
        }),
      );
      const send = workerWith(route === "exchange" ? { CALLBACK_MODE: "exchange" } : {});
      const problems: string[] = [];
      const codes: string[] = [];
      for (const c of CASES[route]) {
        // A fresh code per case: a repeated one would be answered from its stored outcome, not by Peaka.
        const code = secret("code");
        codes.push(code);
        problems.push(...(await run(send, c, code, tally, peakaCalls)));
      }
      expect(problems).toEqual([]);
      expect(watch.check([...codes, API_KEY])).toEqual([]);
    });
  }
});
