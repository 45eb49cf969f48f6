import { AppFailure } from "./failures";

/**
 * The query string exactly as the runtime received it, without the `?`.
 * Sliced from the URL rather than re-serialised from URLSearchParams, which
 * would decode and re-encode it (`%20` to `+`, reordering nothing but
 * changing bytes) and break the providers' and Peaka's signatures on `state`.
 */
export function rawQuery(url: string): string {
  const start = url.indexOf("?");
  if (start < 0) return "";
  const hash = url.indexOf("#", start);
  return hash < 0 ? url.slice(start + 1) : url.slice(start + 1, hash);
}

/** Parameters an authorization response must carry at most once (RFC 9700 §4.x hygiene). */
const SINGLE_USE_PARAMS = ["code", "state", "iss"] as const;

/** The first of code, state or iss that appears more than once across the sources, with its count. */
export function findDuplicate(...sources: URLSearchParams[]): { name: string; count: number } | undefined {
  for (const name of SINGLE_USE_PARAMS) {
    let count = 0;
    for (const params of sources) count += params.getAll(name).length;
    if (count > 1) return { name, count };
  }
  return undefined;
}

/** Throws duplicate_parameter when code, state or iss appears more than once across the sources. */
export function rejectDuplicates(...sources: URLSearchParams[]): void {
  const duplicate = findDuplicate(...sources);
  if (duplicate) {
    throw new AppFailure("duplicate_parameter", { detail: `"${duplicate.name}" appears ${duplicate.count} times.` });
  }
}

/**
 * Longest URL served. Cloudflare's edge refuses longer ones before the worker
 * runs; enforcing the same limit here keeps every runtime (local, tests) on
 * one defined answer instead of relaying or posting megabytes onwards.
 */
export const MAX_URL_LENGTH = 16 * 1024;

/** Largest form_post body accepted (authorization responses are a few hundred bytes). */
export const MAX_FORM_BYTES = 16 * 1024;

/**
 * Reads an application/x-www-form-urlencoded body of at most MAX_FORM_BYTES,
 * streaming so that an oversized body is refused without buffering it whole.
 */
export async function readFormBody(request: Request): Promise<string> {
  if (mediaType(request) !== "application/x-www-form-urlencoded") throw new AppFailure("unsupported_media_type");
  return readBoundedText(request, MAX_FORM_BYTES);
}

/** The Content-Type without parameters, lower-cased. */
export function mediaType(request: Request): string | undefined {
  return (request.headers.get("content-type") ?? "").split(";")[0]?.trim().toLowerCase();
}

/** Reads a body as UTF-8 text, refusing (413) one larger than `maxBytes` without buffering it whole. */
export async function readBoundedText(request: Request, maxBytes: number): Promise<string> {
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (declared > maxBytes) throw new AppFailure("payload_too_large");
  if (!request.body) return "";
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      throw new AppFailure("payload_too_large");
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  try {
    // Fatal: a body that is not UTF-8 is refused, not passed on with replacement characters.
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw new AppFailure("invalid_request", { detail: "The request body is not valid UTF-8." });
  }
}

/** Connection ids are used as KV keys and in URLs: nothing else gets through. */
export const CONNECTION_ID = /^[A-Za-z0-9_-]{1,128}$/;

export interface CompletionParams {
  readonly connectionId: string;
  readonly status: "success" | "fail";
}

/**
 * Parses Peaka's redirect to the partner callback. Peaka's guide writes it as
 * `?connectionId=X?status=Y` (a second `?`), so `?` separates pairs as well as
 * `&`. Both values are restricted to characters that cannot contain a `?`.
 */
export function parseCompletion(query: string): CompletionParams {
  const params = new URLSearchParams(query.replaceAll("?", "&"));
  const ids = params.getAll("connectionId");
  const statuses = params.getAll("status");
  if (ids.length > 1 || statuses.length > 1) {
    throw new AppFailure("duplicate_parameter", { detail: "connectionId and status must appear once." });
  }
  const connectionId = ids[0];
  if (connectionId === undefined || !CONNECTION_ID.test(connectionId)) {
    throw new AppFailure("invalid_request", {
      detail: "connectionId must be 1-128 characters of A-Z, a-z, 0-9, _ and -.",
    });
  }
  return { connectionId, status: statuses[0] === "success" ? "success" : "fail" };
}
