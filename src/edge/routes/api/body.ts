import type * as z from "zod/mini";
import { parseFields } from "../../../core/validate";
import { AppFailure } from "../../../failures/failure";
import { mediaType, readBoundedText } from "../../query";

/** API bodies are small JSON objects; a credential with long tokens still fits easily. */
export const MAX_JSON_BYTES = 32 * 1024;

/** Reads and validates a JSON body: 415 for another type, 413 past the limit, 400 listing the bad fields. */
export async function readJson<T>(request: Request, schema: z.ZodMiniType<T>): Promise<T> {
  if (mediaType(request) !== "application/json") {
    throw new AppFailure("unsupported_media_type", { detail: "Send Content-Type: application/json." });
  }
  const text = await readBoundedText(request, MAX_JSON_BYTES);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new AppFailure("invalid_request", {
      detail: "The body is not valid JSON.",
      fields: [{ field: "(body)", problem: "is not valid JSON" }],
    });
  }
  return parseFields(schema, json);
}
