#!/usr/bin/env node
// Runs the Vitest suite the way it runs on a developer's machine: with a
// .dev.vars (the README's `cp .dev.vars.example .dev.vars`) and .env files
// beside wrangler.toml, each carrying an ISOLATION_SENTINEL variable that
// test/env-isolation.test.ts looks for. The copy lives in a temporary
// directory so that a developer's own files are never touched.
//
//   node scripts/check-dev-vars-isolation.mjs [vitest filters for the .dev.vars run]
import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
// Build output and local state: large, and none of it is read by the tests.
const SKIP = new Set(["node_modules", ".git", ".wrangler", "dist", "coverage", "artifacts"]);
// Whatever local variable files the checkout has are replaced by the planted ones.
const LOCAL_VARS = /^(\.dev\.vars|\.env)(\..+)?$/;
const KEEP = new Set([".dev.vars.example", ".dev.vars.test"]);

const example = readFileSync(join(ROOT, ".dev.vars.example"), "utf8");
const planted = (file) => `${example}\nISOLATION_SENTINEL=planted-in-${file}\n`;

const dir = mkdtempSync(join(tmpdir(), "dev-vars-isolation-"));
const cleanUp = () => rmSync(dir, { recursive: true, force: true });
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.once(signal, () => {
    cleanUp();
    process.exit(130);
  });
}

function vitest(label, args) {
  console.log(`check-dev-vars-isolation: ${label}`);
  const result = spawnSync(process.execPath, [join(dir, "node_modules/vitest/vitest.mjs"), "run", ...args], {
    cwd: dir,
    stdio: "inherit",
  });
  return result.status ?? 1;
}

let status = 1;
try {
  cpSync(ROOT, dir, {
    recursive: true,
    filter: (source) => {
      const path = relative(ROOT, source);
      if (path === "") return true;
      const top = path.split(/[\\/]/)[0] ?? path;
      if (SKIP.has(top)) return false;
      return !(path === top && LOCAL_VARS.test(basename(path)) && !KEEP.has(top));
    },
  });
  symlinkSync(join(ROOT, "node_modules"), join(dir, "node_modules"), "dir");

  // wrangler reads .env files only when there is no .dev.vars: one run with
  // each kind. The whole suite runs with .dev.vars, the README's way.
  writeFileSync(join(dir, ".dev.vars"), planted(".dev.vars"));
  status = vitest(
    `${process.argv.length > 2 ? process.argv.slice(2).join(", ") : "the whole suite"} with .dev.vars (copied from .dev.vars.example) present`,
    process.argv.slice(2),
  );
  if (status === 0) {
    rmSync(join(dir, ".dev.vars"));
    for (const file of [".env", ".env.local", ".env.test", ".env.test.local"]) {
      writeFileSync(join(dir, file), planted(file));
    }
    status = vitest(".env files present, no .dev.vars", ["test/env-isolation.test.ts"]);
  }
} finally {
  cleanUp();
}
console.log(
  status === 0
    ? "check-dev-vars-isolation: passed; no variable from .dev.vars or .env reached the tests"
    : "check-dev-vars-isolation: FAILED; the tests depend on local .dev.vars/.env files",
);
process.exit(status);
