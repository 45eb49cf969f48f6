import { expect, type TaskMeta } from "vitest";
import type { AttackRow } from "./counts";
import { type SecretWatch, watchSecrets } from "./secrets";
import { type Tally, tallyFor } from "./tally";

/**
 * How attacks.test.ts runs the attacker's table: each row is tried in many
 * variants, each variant counted as tried and, when nothing got through, as
 * held. A variant holds when its own checks found nothing and no secret (the
 * run's, and the variant's own codes, states, tokens and cookie values)
 * appears in any console line written while it ran, nor in the pages and
 * answers it produced. The test asserts afterwards that every variant held,
 * so the counts are recorded even when one did not.
 */

export interface Findings {
  /** One way the attack got through (or the variant could not be judged). */
  fail(problem: string): void;
  /** Pages, JSON answers and non-relay Locations the attacker got: searched for the secrets too. */
  output(...texts: string[]): void;
  /** Secrets of this variant, besides the run's. */
  secret(...values: string[]): void;
}

export interface Attack {
  readonly tally: Tally;
  readonly watch: SecretWatch;
  /** Runs one variant. A throw counts as a failure to hold (the variant could not show that it held). */
  variant(name: string, run: (findings: Findings) => Promise<void>): Promise<void>;
  /** Every variant's failures so far, named. */
  readonly failures: readonly string[];
  /** Fails the test unless every variant held; also demands at least `min` variants. */
  expectHeld(min?: number): void;
}

interface TaskLike {
  meta: TaskMeta;
}

export function attackFor(task: TaskLike, row: AttackRow, runSecrets: readonly string[]): Attack {
  task.meta.attack = row;
  const tally = tallyFor(task);
  const watch = watchSecrets(tally);
  const failures: string[] = [];
  let tried = 0;
  return {
    tally,
    watch,
    failures,
    async variant(name, run) {
      tried++;
      tally.add("attacksTried");
      const problems: string[] = [];
      const outputs: string[] = [];
      const secrets = [...runSecrets];
      try {
        await run({
          fail: (problem) => problems.push(problem),
          output: (...texts) => outputs.push(...texts),
          secret: (...values) => secrets.push(...values.filter((v) => v !== "")),
        });
      } catch (error) {
        problems.push(`threw ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`);
      }
      problems.push(...watch.check(secrets, outputs));
      if (problems.length === 0) tally.add("attacksHeld");
      else failures.push(...problems.map((problem) => `${name}: ${problem}`));
    },
    expectHeld(min = 1) {
      const shown = failures.slice(0, 40).join("\n");
      const more = failures.length > 40 ? `\n… and ${failures.length - 40} more` : "";
      expect(failures.length, `Failures to hold (variant: problem):\n${shown}${more}\n`).toBe(0);
      expect(tried).toBeGreaterThanOrEqual(min);
    },
  };
}
