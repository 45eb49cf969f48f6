// Runs the production bundle in workerd, once per configuration, for Node
// tests that need a real deployment-like worker (test/smoke.node.test.mjs).
// Run with tsx (it imports the bench's TypeScript helpers):
//
//   tsx test/helpers/bundle-workers.mjs '{"name": {"VAR": "value", …}, …}'
//
// Builds the bundle as `wrangler deploy` would (bench/lib/build.ts), starts one
// workerd per configuration on loopback (bench/lib/workerd.ts; the value
// "SELF_ORIGIN" becomes the worker's own origin), prints one JSON line
// {"name": "http://127.0.0.1:<port>", …} and keeps them running until its
// standard input closes or it is signalled; then stops them all.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildBundle } from "../../bench/lib/build.ts";
import { SELF_ORIGIN, startWorker } from "../../bench/lib/workerd.ts";

const configs = JSON.parse(process.argv[2] ?? "{}");
const scratch = mkdtempSync(join(tmpdir(), "bundle-workers-"));
const workers = [];

async function stopAll() {
  await Promise.allSettled(workers.map((worker) => worker.stop()));
  rmSync(scratch, { recursive: true, force: true });
}

try {
  const bundle = await buildBundle(join(scratch, "bundle"));
  const urls = {};
  await Promise.all(
    Object.entries(configs).map(async ([name, vars]) => {
      const resolved = Object.fromEntries(
        Object.entries(vars).map(([key, value]) => [key, value === "SELF_ORIGIN" ? SELF_ORIGIN : String(value)]),
      );
      const worker = await startWorker({ bundleDir: bundle.dir, vars: resolved });
      workers.push(worker);
      urls[name] = worker.url;
    }),
  );
  process.stdout.write(`${JSON.stringify(urls)}\n`);
} catch (error) {
  process.stderr.write(`bundle-workers: ${error instanceof Error ? (error.stack ?? error.message) : error}\n`);
  await stopAll();
  process.exit(1);
}

process.stdin.resume();
process.stdin.once("end", async () => {
  await stopAll();
  process.exit(0);
});
