import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

// Just enough TOML for the keys the benchmark needs from wrangler.toml, so
// that it runs the worker with the compatibility settings and [vars] that
// deploy. wrangler.toml keeps these as one-line strings; anything else is an error.

const ROOT = resolve(fileURLToPath(import.meta.url), "../../..");

function toml(): string {
  return readFileSync(join(ROOT, "wrangler.toml"), "utf8");
}

export function wranglerCompatibility(): { date: string; flags: string[] } {
  const text = toml();
  const date = /^compatibility_date\s*=\s*"([^"]+)"/m.exec(text)?.[1];
  const flags = /^compatibility_flags\s*=\s*\[([^\]]*)\]/m.exec(text)?.[1];
  if (!date) throw new Error("wrangler.toml has no compatibility_date");
  return { date, flags: flags ? [...flags.matchAll(/"([^"]+)"/g)].map((m) => m[1] as string) : [] };
}

/** The [vars] table: what a deployment starts from before its own settings and secrets. */
export function wranglerVars(): Record<string, string> {
  const vars: Record<string, string> = {};
  let inVars = false;
  for (const line of toml().split("\n")) {
    const trimmed = line.trim();
    if (trimmed.startsWith("[")) inVars = trimmed === "[vars]";
    else if (inVars && trimmed !== "" && !trimmed.startsWith("#")) {
      const match = /^([A-Z0-9_]+)\s*=\s*"([^"\\]*)"$/.exec(trimmed);
      if (!match) throw new Error(`wrangler.toml [vars]: cannot read ${JSON.stringify(trimmed)}`);
      vars[match[1] as string] = match[2] as string;
    }
  }
  return vars;
}
