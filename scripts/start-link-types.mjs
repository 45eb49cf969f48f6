#!/usr/bin/env node
// Generates the start-link signer's .d.ts from the JSDoc types in its .js,
// so the declarations TypeScript callers compile against cannot drift from
// the code that runs.
//
//   node scripts/start-link-types.mjs           rewrite the .d.ts
//   node scripts/start-link-types.mjs --check   fail if the committed one differs (npm run typecheck)
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
// The published entry point names both files, so they are found wherever they move.
const entry = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).exports["./start-link"];
const source = resolve(ROOT, entry.default);
const target = resolve(ROOT, entry.types);
const sourceName = relative(ROOT, source);
const targetName = relative(ROOT, target);
const check = process.argv.includes("--check");
const command = "npm run types:start-link";

function fail(message) {
  process.stderr.write(`start-link-types: ${message}\n`);
  process.exit(1);
}

// The signer's own compiler settings (Node types, strict), with declarations on.
const configFile = join(ROOT, "tsconfig.signer.json");
const { config, error } = ts.readConfigFile(configFile, ts.sys.readFile);
if (error) fail(ts.flattenDiagnosticMessageText(error.messageText, "\n"));
const parsed = ts.parseJsonConfigFileContent(config, ts.sys, ROOT, undefined, configFile);
// Emitted to memory only; the outDir just keeps tsc from refusing to
// "overwrite" the committed .d.ts when the .js refers to it.
const options = {
  ...parsed.options,
  noEmit: false,
  declaration: true,
  emitDeclarationOnly: true,
  outDir: join(ROOT, "node_modules/.cache/start-link-types"),
};
const program = ts.createProgram([source], options);

const diagnostics = ts.getPreEmitDiagnostics(program);
if (diagnostics.length > 0) {
  fail(
    ts.formatDiagnostics(diagnostics, {
      getCanonicalFileName: (name) => name,
      getCurrentDirectory: () => ROOT,
      getNewLine: () => "\n",
    }),
  );
}

let declarations;
const emitted = program.emit(
  program.getSourceFile(source),
  (_name, text) => {
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
if (check) {
  if (current !== generated) {
    fail(`${targetName} is not what ${sourceName} declares; run \`${command}\` and commit the result.`);
  }
} else if (current !== generated) {
  writeFileSync(target, generated);
  console.log(`start-link-types: wrote ${targetName}`);
} else {
  console.log(`start-link-types: ${targetName} is up to date`);
}
