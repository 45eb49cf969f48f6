import type { Context } from "hono";
import type { AppEnv } from "./context";
import { causeName, emitEvent } from "./log";

/**
 * Runs bookkeeping (deleting a used record, saving an outcome) after the
 * response is sent, so the user's redirect never waits on a KV write. A
 * failure is logged by class name; the user already has their answer.
 */
export function afterResponse(c: Context<AppEnv>, task: string, work: Promise<unknown>): void {
  const guarded = work.catch((error: unknown) => {
    emitEvent("warn", "background_task_failed", { task, requestId: c.get("requestId"), cause: causeName(error) });
  });
  try {
    c.executionCtx.waitUntil(guarded);
  } catch {
    // No ExecutionContext (e.g. app.request in a unit test): the promise still runs.
  }
}
