import { afterEach, beforeEach, expect, vi } from "vitest";

/**
 * Captures everything the worker writes to the console during a test, so a
 * test can assert that no secret it used ever reached a log line.
 */
export function captureLogs(): {
  lines: string[];
  expectAbsent: (...secrets: string[]) => void;
  json: () => Record<string, unknown>[];
} {
  const lines: string[] = [];
  const spies: ReturnType<typeof vi.spyOn>[] = [];
  beforeEach(() => {
    lines.length = 0;
    for (const method of ["log", "info", "warn", "error", "debug"] as const) {
      spies.push(
        vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
          lines.push(args.map((a) => (typeof a === "string" ? a : JSON.stringify(a))).join(" "));
        }),
      );
    }
  });
  afterEach(() => {
    for (const spy of spies.splice(0)) spy.mockRestore();
  });
  return {
    lines,
    expectAbsent: (...secrets: string[]) => {
      expect(lines.length).toBeGreaterThan(0);
      for (const secret of secrets) for (const line of lines) expect(line).not.toContain(secret);
    },
    json: () => lines.filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}
