#!/usr/bin/env node
// Generates the .d.ts of a plain-JavaScript module that package.json exports
// from the JSDoc types in its .js, so the declarations TypeScript callers
// compile against cannot drift from the code that runs.
//
//   node scripts/export-types.mjs ./result           rewrite src/security/result.d.ts
//   node scripts/export-types.mjs ./result --check   fail if the committed one differs (npm run typecheck)
//
// The argument is a key of package.json "exports"; its `default` is the
// source and its `types` the declarations, so both are found wherever they move.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const check = process.argv.includes("--check");
const names = process.argv.slice(2).filter((arg) => arg !== "--check");

function fail(message) {
  process.stderr.write(`export-types: ${message}\n`);
  process.exit(1);
}

if (names.length === 0) fail("usage: node scripts/export-types.mjs ./EXPORT... [--check]");
const exportsMap = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).exports;

// The signers' own compiler settings (Node types, strict), with declarations on.
const configFile = join(ROOT, "tsconfig.signer.json");
const { config, error } = ts.readConfigFile(configFile, ts.sys.readFile);
if (error) fail(ts.flattenDiagnosticMessageText(error.messageText, "\n"));
const parsed = ts.parseJsonConfigFileContent(config, ts.sys, ROOT, undefined, configFile);
// Emitted to memory only; the outDir just keeps tsc from refusing to
// "overwrite" the committed .d.ts.
const options = {
  ...parsed.options,
  noEmit: false,
  declaration: true,
  emitDeclarationOnly: true,
  outDir: join(ROOT, "node_modules/.cache/export-types"),
};

let stale = false;
for (const name of names) {
  const entry = exportsMap[name];
  if (!entry?.default || !entry?.types) fail(`package.json exports has no { types, default } for ${name}`);
  const source = resolve(ROOT, entry.default);
  const target = resolve(ROOT, entry.types);
  const sourceName = relative(ROOT, source);
  const targetName = relative(ROOT, target);
  const command = "npm run types";

  const program = ts.createProgram([source], options);
  const diagnostics = ts.getPreEmitDiagnostics(program);
  if (diagnostics.length > 0) {
    fail(
      ts.formatDiagnostics(diagnostics, {
        getCanonicalFileName: (file) => file,
        getCurrentDirectory: () => ROOT,
        getNewLine: () => "\n",
      }),
    );
  }
  let declarations;
  const emitted = program.emit(
    program.getSourceFile(source),
    (_file, text) => {
      declarations = text;
    },
    undefined,
    true,
  );
  if (emitted.emitSkipped || declarations === undefined) fail(`tsc emitted no declarations for ${sourceName}`);

  const banner = `// Generated from ${relative(dirname(target), source)} by \`${command}\`: change the JSDoc there, not this file.\n`;
  // Formatted like the rest of the code, so Biome (npm run lint) accepts it as generated.
  const biome = spawnSync(
    process.execPath,
    [join(ROOT, "node_modules/@biomejs/biome/bin/biome"), "format", `--stdin-file-path=${targetName}`],
    { cwd: ROOT, input: banner + declarations, encoding: "utf8" },
  );
  if (biome.status !== 0) fail(`biome format failed:\n${biome.stderr}`);
  const generated = biome.stdout;

  const current = existsSync(target) ? readFileSync(target, "utf8") : undefined;
  if (current === generated) {
    if (!check) console.log(`export-types: ${targetName} is up to date`);
  } else if (check) {
    process.stderr.write(
      `export-types: ${targetName} is not what ${sourceName} declares; run \`${command}\` and commit the result.\n`,
    );
    stale = true;
  } else {
    writeFileSync(target, generated);
    console.log(`export-types: wrote ${targetName}`);
  }
}
if (stale) process.exit(1);
