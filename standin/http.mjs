// Small node:http utilities shared by the Peaka stand-in and the demo partner
// app. No framework on purpose: the load test and the benchmarks reuse the
// stand-in, and a bare server adds no latency of its own to what they measure.

import { timingSafeEqual } from "node:crypto";

/** Largest request body read; Peaka's answers and a form_post are far below it. */
export const MAX_BODY_BYTES = 64 * 1024;

export class HttpError extends Error {
  /** @param {number} status @param {string} code @param {string} message */
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/**
 * Reads the body as text, refusing more than MAX_BODY_BYTES.
 * @param {import("node:http").IncomingMessage} req
 * @returns {Promise<string>}
 */
export async function readBody(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, "payload_too_large", "Request body too large.");
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** @param {import("node:http").IncomingMessage} req */
export function contentType(req) {
  return (req.headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
}

/**
 * Parameters of a GET query plus, for a form POST, the form body: how an
 * OAuth redirect (GET) or a response_mode=form_post (POST) arrives.
 * @param {import("node:http").IncomingMessage} req @param {URL} url
 * @returns {Promise<URLSearchParams>}
 */
export async function requestParams(req, url) {
  const params = new URLSearchParams(url.search);
  if (req.method === "POST") {
    if (contentType(req) !== "application/x-www-form-urlencoded") {
      throw new HttpError(415, "unsupported_media_type", "Expected an application/x-www-form-urlencoded body.");
    }
    for (const [name, value] of new URLSearchParams(await readBody(req))) params.append(name, value);
  }
  return params;
}

const COMMON_HEADERS = { "Cache-Control": "no-store", "Referrer-Policy": "no-referrer" };

/** @param {import("node:http").ServerResponse} res @param {number} status @param {unknown} body */
export function sendJson(res, status, body) {
  res.writeHead(status, { ...COMMON_HEADERS, "Content-Type": "application/json; charset=utf-8" });
  res.end(JSON.stringify(body));
}

/** @param {import("node:http").ServerResponse} res @param {number} status @param {string} html */
export function sendHtml(res, status, html) {
  res.writeHead(status, { ...COMMON_HEADERS, "Content-Type": "text/html; charset=utf-8" });
  res.end(html);
}

/** @param {import("node:http").ServerResponse} res @param {string | URL} location @param {number} [status] */
export function redirect(res, location, status = 303) {
  res.writeHead(status, { ...COMMON_HEADERS, Location: String(location) });
  res.end();
}

/** Constant-time comparison of a bearer header against the expected key. */
export function bearerMatches(header, expected) {
  if (typeof header !== "string" || !header.startsWith("Bearer ")) return false;
  const given = Buffer.from(header.slice("Bearer ".length));
  const wanted = Buffer.from(expected);
  return given.length === wanted.length && timingSafeEqual(given, wanted);
}

/** @param {number} ms */
export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Starts a server on 127.0.0.1 and resolves once it listens; port 0 picks a free port.
 * @param {import("node:http").RequestListener} handler @param {number} port
 * @returns {Promise<{ server: import("node:http").Server, port: number, close: () => Promise<void> }>}
 */
export async function listen(handler, port) {
  const { createServer } = await import("node:http");
  const server = createServer(handler);
  // A stand-in that keeps sockets alive would hold wrangler's and Chromium's
  // connections open and delay shutdown; short keep-alive is enough here.
  server.keepAliveTimeout = 1000;
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve(undefined));
  });
  const address = server.address();
  const actual = typeof address === "object" && address ? address.port : port;
  return {
    server,
    port: actual,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/**
 * Wraps a route handler so HttpError becomes a JSON or HTML answer and
 * anything else a 500 without a stack trace.
 * @param {(req: import("node:http").IncomingMessage, res: import("node:http").ServerResponse, url: URL) => Promise<void>} route
 * @param {(error: HttpError, req: import("node:http").IncomingMessage) => { status: number, html?: string, json?: unknown }} render
 */
export function handler(route, render) {
  return (req, res) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    route(req, res, url).catch((error) => {
      const failure =
        error instanceof HttpError ? error : new HttpError(500, "internal_error", "The stand-in failed unexpectedly.");
      if (!(error instanceof HttpError)) console.log(`[stand-in] unexpected ${error?.name ?? typeof error}`);
      if (res.headersSent) {
        res.destroy();
        return;
      }
      const view = render(failure, req);
      if (view.json !== undefined) sendJson(res, view.status, view.json);
      else sendHtml(res, view.status, view.html ?? "");
    });
  };
}
