import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { cpus, loadavg, release, totalmem, type } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { findNginx } from "../lib/nginx";
import { workerdBinary } from "../lib/workerd";

export interface MachineInfo {
  date: string;
  cpu: string;
  cores: number;
  memoryGiB: number;
  os: string;
  loadAverage: [number, number, number];
  versions: Record<string, string>;
}

const ROOT = resolve(fileURLToPath(import.meta.url), "../../..");

/** From the installed package.json (some packages' export maps hide it from require.resolve). */
function packageVersion(name: string): string {
  try {
    const file = join(ROOT, "node_modules", name, "package.json");
    return (JSON.parse(readFileSync(file, "utf8")) as { version: string }).version;
  } catch {
    return "not installed";
  }
}

async function output(command: string, args: string[]): Promise<string> {
  try {
    const { stdout, stderr } = await promisify(execFile)(command, args);
    return `${stdout}${stderr}`.trim();
  } catch {
    return "unavailable";
  }
}

export async function machineInfo(): Promise<MachineInfo> {
  const nginx = findNginx();
  return {
    date: new Date().toISOString(),
    cpu: cpus()[0]?.model ?? "unknown",
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    os: `${type()} ${release()}`,
    loadAverage: loadavg().map((n) => Math.round(n * 100) / 100) as [number, number, number],
    versions: {
      node: process.version,
      workerd: (await output(workerdBinary(), ["--version"])).replace(/^workerd\s*/, ""),
      wrangler: packageVersion("wrangler"),
      hono: packageVersion("hono"),
      autocannon: packageVersion("autocannon"),
      express: packageVersion("express"),
      mitata: packageVersion("mitata"),
      nginx: nginx ? (await output(nginx, ["-v"])).replace(/^nginx version:\s*/, "") : "not installed",
    },
  };
}
