// The ops section counts webhook messages at the in-process service behind
// the worker's queue producer bindings: a message it failed to see would
// read as a flow that sends none.
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { startWorker } from "./workerd";

const PROBE = join(fileURLToPath(import.meta.url), "../../servers/queue-probe");

test("every message sent through a queue binding is counted, batches included", async () => {
  const worker = await startWorker({ bundleDir: PROBE, kvBinding: "KV", queueBindings: ["QUEUE"] });
  try {
    const response = await fetch(worker.url);
    assert.equal(response.status, 204, await response.text());
    assert.equal((await worker.kvStats()).queued, 3);
    await worker.kvReset();
    assert.equal((await worker.kvStats()).queued, 0);
  } finally {
    await worker.stop();
  }
});
