/**
 * Load runs against several servers on loopback, interleaved (A B C A B C …)
 * so that drift in the machine's state (CPU frequency, other work) spreads
 * over every server instead of favouring whichever ran first.
 */
import { type LoadOptions, type LoadResult, load } from "../lib/load";

export interface Target {
  name: string;
  options: Omit<LoadOptions, "connections" | "durationSeconds">;
  /** Overrides the rounds' connection count for this target. */
  connections?: number;
}

export interface RoundsOptions {
  rounds: number;
  connections: number;
  durationSeconds: number;
  warmupSeconds: number;
  onRun?: (name: string, round: number, result: LoadResult) => void;
}

export async function interleaved(
  targets: readonly Target[],
  options: RoundsOptions,
): Promise<Map<string, LoadResult[]>> {
  const results = new Map<string, LoadResult[]>(targets.map((t) => [t.name, []]));
  if (options.warmupSeconds > 0) {
    for (const target of targets) {
      await load({
        ...target.options,
        connections: target.connections ?? options.connections,
        durationSeconds: options.warmupSeconds,
      });
    }
  }
  for (let round = 1; round <= options.rounds; round++) {
    for (const target of targets) {
      const result = await load({
        ...target.options,
        connections: target.connections ?? options.connections,
        durationSeconds: options.durationSeconds,
      });
      if (result.errors > 0 || result.unexpected > 0 || result.requests === 0) {
        throw new Error(
          `${target.name}: ${result.requests} responses, ${result.errors} errors, ${result.unexpected} with an unexpected status`,
        );
      }
      results.get(target.name)?.push(result);
      options.onRun?.(target.name, round, result);
    }
  }
  return results;
}
