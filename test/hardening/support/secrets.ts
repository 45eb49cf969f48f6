import { onTestFinished, vi } from "vitest";
import type { Tally } from "./tally";
import { wrapKv } from "./worker";

const CONSOLE_METHODS = ["log", "info", "warn", "error", "debug"] as const;

export interface SecretWatch {
  /** Every console line written since the watch began. */
  readonly lines: string[];
  /** Lines that are JSON objects (the worker's log format). */
  json(): Record<string, unknown>[];
  /**
   * Searches the lines not yet checked, plus any extra texts (page bodies,
   * JSON answers, KV values), for each secret. Counts what it checked and
   * found; returns one description per hit, so the caller asserts `[]`.
   */
  check(secrets: readonly string[], extraTexts?: readonly string[]): string[];
}

/**
 * Captures console output for the rest of the current test (restored when it
 * finishes) and counts every line searched, for the figures.
 */
export function watchSecrets(tally: Tally): SecretWatch {
  const lines: string[] = [];
  const spies = CONSOLE_METHODS.map((method) =>
    vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
      lines.push(args.map((a) => (typeof a === "string" ? a : JSON.stringify(a))).join(" "));
    }),
  );
  onTestFinished(() => {
    for (const spy of spies) spy.mockRestore();
  });
  let checked = 0;
  return {
    lines,
    json: () => lines.filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as Record<string, unknown>),
    check(secrets, extraTexts = []) {
      const fresh = lines.slice(checked);
      checked = lines.length;
      tally.add("logLinesChecked", fresh.length);
      const hits: string[] = [];
      for (const secret of secrets) {
        if (secret.length < 8) throw new Error("secrets under 8 characters would match by accident");
        for (const line of fresh) if (line.includes(secret)) hits.push(`log line: ${line.slice(0, 200)}`);
        for (const text of extraTexts) if (text.includes(secret)) hits.push(`output: ${text.slice(0, 200)}`);
      }
      tally.add("secretsFound", hits.length);
      return hits;
    },
  };
}

/**
 * The KV binding the worker gets, recording every key it writes, so a test
 * can read back exactly what the worker stored and search it for secrets.
 */
export function recordWrites(kv: KVNamespace): { kv: KVNamespace; values(): Promise<string[]> } {
  const written = new Set<string>();
  return {
    kv: wrapKv(kv, (op, key) => {
      if (op === "put" && key !== undefined) written.add(key);
    }),
    async values() {
      const values: string[] = [];
      for (const key of written) values.push(`${key}=${(await kv.get(key)) ?? ""}`);
      return values;
    },
  };
}

/** A value unique to one test, long enough never to appear by chance. */
export function secret(kind: string): string {
  return `${kind}-${crypto.randomUUID()}`;
}
