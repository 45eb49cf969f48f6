/**
 * A `[[ratelimits]]` binding through its interface (`limit({ key })`), counting
 * per key with no window: the tests check what the worker does with the
 * binding's answer and which key it counts, not the local limiter's timing
 * (the pinned miniflare's counters reset after ~10 s idle and ignore the
 * period, so a burst against it depends on when the test runs).
 */
export function countingLimiter(limit: number): RateLimit & { readonly keys: string[] } {
  const counts = new Map<string, number>();
  const keys: string[] = [];
  return {
    keys,
    async limit({ key }) {
      keys.push(key);
      const count = (counts.get(key) ?? 0) + 1;
      counts.set(key, count);
      return { success: count <= limit };
    },
  };
}
