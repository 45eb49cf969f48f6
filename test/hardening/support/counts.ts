/**
 * The counts behind docs/hardening.md, shared by the tests that record them
 * (tally.ts) and the script that reports them (scripts/report-hardening.ts).
 */

export interface HardeningCounts {
  /** Hostile or oversized inputs sent to an entry point. */
  inputsTried: number;
  /** Of those, how many were followed (a redirect off the allow-list, a 5xx, a hang). */
  inputsAccepted: number;
  /** fast-check runs executed. */
  propertyRuns: number;
  /** Peaka or KV failures injected. */
  faultsInjected: number;
  /** Of those, how many did not end on the defined outcome. */
  undefinedOutcomes: number;
  /** Console lines captured and searched for secrets. */
  logLinesChecked: number;
  /** Secret occurrences found in logs, pages, JSON bodies or KV values. */
  secretsFound: number;
  /** Attacks on the outcome tried (test/hardening/attacks.test.ts): one per variant of a row. */
  attacksTried: number;
  /** Of those, how many held: refused, or answered harmlessly, with no secret in any log line. */
  attacksHeld: number;
}

export type CountName = keyof HardeningCounts;

/**
 * One row of the attacker's table in docs/hardening.md. A test records the
 * row it belongs to in its metadata; the report sums the tests of each row.
 */
export interface AttackRow {
  /** Its place in the table. */
  readonly row: number;
  /** What the attacker tries. */
  readonly attack: string;
  /** What stops it. */
  readonly stoppedBy: string;
}
