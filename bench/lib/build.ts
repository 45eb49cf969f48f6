import { execFile } from "node:child_process";
import { readdirSync, readFileSync, symlinkSync } from "node:fs";
import { createRequire } from "node:module";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { gzipSync } from "node:zlib";

const ROOT = resolve(fileURLToPath(import.meta.url), "../../..");

export interface Bundle {
  dir: string;
  /** Bytes of every module the upload carries (source maps excluded). */
  rawBytes: number;
  gzipBytes: number;
  /** What wrangler printed, e.g. "57.21 KiB / gzip: 20.66 KiB". */
  wranglerSize?: string;
  /** Wrangler prints a startup time only for a real deploy; kept in case a dry run ever does. */
  wranglerStartup?: string;
}

function wranglerBin(): string {
  const require = createRequire(import.meta.url);
  return require.resolve("wrangler/bin/wrangler.js");
}

/**
 * The production bundle exactly as `wrangler deploy` would upload it
 * (wrangler.toml: minify = true), from this checkout or another (`cwd`).
 */
export async function buildBundle(outDir: string, cwd = ROOT): Promise<Bundle> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [wranglerBin(), "deploy", "--dry-run", "--outdir", outDir],
    { cwd, env: { ...process.env, WRANGLER_SEND_METRICS: "false", NO_COLOR: "1" }, maxBuffer: 16 << 20 },
  );
  const modules = readdirSync(outDir).filter((name) => /\.m?js$/.test(name));
  const bytes = Buffer.concat(modules.map((name) => readFileSync(join(outDir, name))));
  return {
    dir: outDir,
    rawBytes: bytes.length,
    gzipBytes: gzipSync(bytes, { level: 9 }).length,
    wranglerSize: /Total Upload:\s*(.+)/.exec(stdout)?.[1]?.trim(),
    wranglerStartup: /Startup Time:\s*(.+)/i.exec(stdout)?.[1]?.trim(),
  };
}

/**
 * The bundle of another commit (`npm run bench -- --against REF`), built from
 * a temporary git worktree that borrows this checkout's node_modules, so a
 * change's cost is measured against its base in the same interleaved run.
 */
export async function buildBundleAt(ref: string, scratch: string): Promise<Bundle> {
  const run = promisify(execFile);
  const tree = join(scratch, "tree");
  await run("git", ["worktree", "add", "--detach", tree, ref], { cwd: ROOT });
  try {
    symlinkSync(join(ROOT, "node_modules"), join(tree, "node_modules"), "dir");
    return await buildBundle(join(scratch, "bundle"), tree);
  } finally {
    await run("git", ["worktree", "remove", "--force", tree], { cwd: ROOT });
  }
}
