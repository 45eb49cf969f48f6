/**
 * Time as the worker reads it. Injected (core `Deps`, `Store`, platform
 * clients) so tests move time and fire timeouts without sleeping.
 */
export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
  /** A signal that aborts after `ms`: the deadline of one outbound call. */
  timeout(ms: number): AbortSignal;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  timeout: (ms) => AbortSignal.timeout(ms),
};
