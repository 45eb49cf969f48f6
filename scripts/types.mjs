// `npm run types` writes worker-configuration.d.ts from wrangler.toml and the
// secret names in .dev.vars.example; `npm run types -- --check` fails when the
// committed file differs from what would be generated. The secret names come
// from the example, never from a developer's own .dev.vars, so the output is
// the same on every machine. (wrangler's own `types --check` compares a hash
// that includes its command line, so it cannot check a file generated with
// these flags.)
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(fileURLToPath(import.meta.url), "../..");
const target = join(root, "worker-configuration.d.ts");
const wrangler = createRequire(import.meta.url).resolve("wrangler/bin/wrangler.js");
const args = ["types", "--include-runtime=false", "--strict-vars=false", "--env-file", ".dev.vars.example"];

const previous = existsSync(target) ? readFileSync(target, "utf8") : "";
execFileSync(process.execPath, [wrangler, ...args], {
  cwd: root,
  stdio: ["ignore", "ignore", "inherit"],
  env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
});
const generated = readFileSync(target, "utf8");

if (process.argv.includes("--check") && generated !== previous) {
  // Leave the committed file as it was: the check reports, it does not fix.
  const scratch = mkdtempSync(join(tmpdir(), "types-"));
  writeFileSync(join(scratch, "generated.d.ts"), generated);
  writeFileSync(target, previous);
  process.stderr.write(
    `worker-configuration.d.ts is stale (wrangler.toml or .dev.vars.example changed): run \`npm run types\` and commit it. Generated copy: ${join(scratch, "generated.d.ts")}\n`,
  );
  process.exit(1);
}
