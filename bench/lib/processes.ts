import { type ChildProcess, type SpawnOptions, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * Every child the benchmark starts is registered here, so that a thrown
 * error, Ctrl-C or a normal exit never leaves a server behind on a port.
 */
const running = new Set<ChildProcess>();
const scratch = new Set<string>();

function killAll(): void {
  for (const child of running) child.kill("SIGKILL");
  running.clear();
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
  scratch.clear();
}

/** A temporary directory, removed on exit (also on Ctrl-C or an error) if not removed before. */
export function scratchDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  scratch.add(dir);
  return dir;
}

export function removeScratch(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  scratch.delete(dir);
}

process.once("exit", killAll);
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    killAll();
    process.exit(130);
  });
}

/** Keeps the last few KiB a child wrote, to explain a failure without storing its whole output. */
export class Tail {
  private text = "";
  constructor(private readonly limit = 8192) {}
  push(chunk: Buffer | string): void {
    this.text = (this.text + chunk.toString()).slice(-this.limit);
  }
  toString(): string {
    return this.text;
  }
}

export function spawnTracked(command: string, args: readonly string[], options: SpawnOptions): ChildProcess {
  const child = spawn(command, args, options);
  running.add(child);
  child.once("exit", () => running.delete(child));
  return child;
}

/** SIGTERM, then SIGKILL if the child has not exited within `graceMs`. */
export async function stopProcess(child: ChildProcess, graceMs = 2000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
  await exited;
  clearTimeout(timer);
}

/** Resolves when `ready` sees what it waits for on the child's output, rejects if the child exits first or time runs out. */
export function waitForChild<T>(
  child: ChildProcess,
  what: string,
  timeoutMs: number,
  ready: (resolve: (value: T) => void) => void,
  tail: Tail,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onExit = (code: number | null, signal: string | null) => fail(`exited early (${signal ?? code})`);
    const onError = (error: Error) => fail(`could not be started: ${error.message}`);
    const settle = () => {
      clearTimeout(timer);
      child.off("exit", onExit);
      child.off("error", onError);
    };
    const fail = (reason: string) => {
      settle();
      child.kill("SIGKILL");
      reject(new Error(`${what} ${reason}\n${tail.toString()}`));
    };
    const timer = setTimeout(() => fail(`did not start within ${timeoutMs} ms`), timeoutMs);
    child.once("exit", onExit);
    child.once("error", onError);
    ready((value) => {
      settle();
      resolve(value);
    });
  });
}

/** A loopback port that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        address && typeof address === "object" ? resolve(address.port) : reject(new Error("no port")),
      );
    });
  });
}
