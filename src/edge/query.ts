import { AppFailure } from "../failures/failure";

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
