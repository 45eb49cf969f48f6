import { AppFailure } from "../failures/failure";

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

/** Connection ids are used as KV keys and in URLs: nothing else gets through. */
export const CONNECTION_ID = /^[A-Za-z0-9_-]{1,128}$/;

export const CONNECTION_ID_RULE = "must be 1-128 characters of A-Z, a-z, 0-9, _ and -";
