import type * as z from "zod/mini";
import { AppFailure, type FieldProblem } from "../failures/failure";

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let value = input;
  for (const key of path) {
    if (value === null || typeof value !== "object") return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

/**
 * Turns zod issues into field problems: the dotted path and the rule, never
 * the value. An invalid credential key is reported on `credential` itself,
 * since the key could be anything a caller pasted.
 */
export function fieldProblems(input: unknown, issues: readonly z.core.$ZodIssue[]): FieldProblem[] {
  const problems: FieldProblem[] = [];
  for (const issue of issues) {
    const path = issue.path.map(String).join(".");
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys) {
        problems.push({ field: path ? `${path}.${key}` : key, problem: "is not an accepted field" });
      }
    } else if (issue.code === "invalid_key") {
      problems.push({
        field: issue.path.slice(0, -1).map(String).join("."),
        problem: issue.issues[0]?.message ?? issue.message,
      });
    } else if (issue.code === "invalid_type" && path !== "" && valueAt(input, issue.path) === undefined) {
      problems.push({ field: path, problem: "is required" });
    } else {
      problems.push({ field: path || "(body)", problem: issue.message });
    }
  }
  return problems;
}

/** Parses with the schema or throws invalid_request (400) listing every bad field. */
export function parseFields<T>(schema: z.ZodMiniType<T>, input: unknown): T {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const fields = fieldProblems(input, result.error.issues);
  throw new AppFailure("invalid_request", {
    detail: `Check ${fields.map((f) => f.field).join(", ")}.`,
    fields,
  });
}
