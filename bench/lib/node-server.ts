import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { spawnTracked, stopProcess, Tail, waitForChild } from "./processes";

export interface RunningServer {
  url: string;
  port: number;
  startupMs: number;
  pid: number;
  stop(): Promise<void>;
}

const ROOT = resolve(fileURLToPath(import.meta.url), "../../..");

/**
 * Starts one of bench/servers/*.ts in its own Node process (so it never
 * shares an event loop with the load generator) and waits for the port it
 * announces on stdout.
 */
export async function startNodeServer(script: string, args: readonly string[] = []): Promise<RunningServer> {
  const tail = new Tail();
  const started = performance.now();
  const child = spawnTracked(process.execPath, ["--import", "tsx", resolve(ROOT, script), ...args], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stderr?.on("data", (chunk: Buffer) => tail.push(chunk));
  const port = await waitForChild<number>(
    child,
    script,
    15_000,
    (ready) => {
      let buffer = "";
      child.stdout?.on("data", (chunk: Buffer) => {
        buffer += chunk.toString();
        const line = buffer.split("\n")[0];
        if (buffer.includes("\n") && line) ready((JSON.parse(line) as { port: number }).port);
      });
    },
    tail,
  );
  const startupMs = performance.now() - started;
  let stopped: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    startupMs,
    pid: child.pid as number,
    stop() {
      stopped ??= stopProcess(child);
      return stopped;
    },
  };
}
