/**
 * Counts behind docs/hardening.md. Each test adds what it tried to its own
 * task metadata; vitest's JSON reporter carries that metadata out of the
 * Workers pool, and scripts/report-hardening.ts sums it. Counts are recorded
 * before the assertions that demand them be zero, so a failing run still
 * reports what it found.
 */

import type { AttackRow, CountName, HardeningCounts } from "./counts";

export type { AttackRow, CountName, HardeningCounts } from "./counts";

declare module "vitest" {
  interface TaskMeta {
    hardening?: Partial<HardeningCounts>;
    /** The attacker's-table row a test of attacks.test.ts belongs to. */
    attack?: AttackRow;
  }
}

interface TaskLike {
  meta: { hardening?: Partial<HardeningCounts> };
}

export interface Tally {
  add(name: CountName, amount?: number): void;
}

export function tallyFor(task: TaskLike): Tally {
  const counts: Partial<HardeningCounts> = task.meta.hardening ?? {};
  task.meta.hardening = counts;
  return {
    add(name, amount = 1) {
      counts[name] = (counts[name] ?? 0) + amount;
    },
  };
}
