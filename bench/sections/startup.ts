/**
 * Startup. A dry run prints no startup time (wrangler reports one only on a
 * real deploy), so two local measures stand in: workerd spawn → listening
 * for the bundle and for the bare worker (the difference is what loading
 * this bundle costs), and the CPU time of the startup phase as profiled by
 * `wrangler check startup` on this machine's CPU.
 */
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { removeScratch, scratchDir } from "../lib/processes";
import { median } from "../lib/stats";
import { startWorker, type WorkerOptions } from "../lib/workerd";

const ROOT = resolve(fileURLToPath(import.meta.url), "../../..");

export interface StartupResult {
  workerMs: number;
  bareMs: number;
  starts: number;
  profileCpuMs?: number;
  profileNote?: string;
}

async function medianStartup(options: WorkerOptions, starts: number): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < starts; i++) {
    const worker = await startWorker(options);
    times.push(worker.startupMs);
    await worker.stop();
  }
  return median(times);
}

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string } }[];
  samples: number[];
  timeDeltas: number[];
}

/** Sampled CPU time of the startup phase, idle samples excluded. */
async function profiledStartupMs(): Promise<number> {
  const dir = scratchDir("bench-startup-");
  try {
    const outfile = join(dir, "startup.cpuprofile");
    const wrangler = createRequire(import.meta.url).resolve("wrangler/bin/wrangler.js");
    await promisify(execFile)(process.execPath, [wrangler, "check", "startup", "--outfile", outfile], {
      cwd: ROOT,
      env: { ...process.env, WRANGLER_SEND_METRICS: "false", NO_COLOR: "1" },
      maxBuffer: 16 << 20,
    });
    const profile = JSON.parse(readFileSync(outfile, "utf8")) as CpuProfile;
    const idle = new Set(profile.nodes.filter((n) => n.callFrame.functionName === "(idle)").map((n) => n.id));
    let micros = 0;
    profile.samples.forEach((node, i) => {
      // A sample's delta is the time since the previous one: attribute it to this sample's frame.
      if (!idle.has(node)) micros += profile.timeDeltas[i] ?? 0;
    });
    return micros / 1000;
  } finally {
    removeScratch(dir);
  }
}

export async function measureStartup(
  worker: WorkerOptions,
  bare: WorkerOptions,
  starts: number,
  profile: boolean,
): Promise<StartupResult> {
  const result: StartupResult = {
    workerMs: await medianStartup(worker, starts),
    bareMs: await medianStartup(bare, starts),
    starts,
  };
  if (profile) {
    try {
      result.profileCpuMs = await profiledStartupMs();
    } catch (error) {
      result.profileNote = `wrangler check startup failed: ${(error as Error).message.split("\n")[0]}`;
    }
  }
  return result;
}
