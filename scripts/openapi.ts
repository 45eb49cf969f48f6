// `npm run openapi` writes public/api/v1/openapi.json from the API's route
// registry (src/edge/routes/api/spec.ts); `npm run openapi -- --check` (run
// by `npm run typecheck`) fails when the committed file differs. The worker
// serves the file as a static asset (wrangler.toml [assets]), so it costs
// the script bundle nothing.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { openApiDocument } from "../src/edge/routes/api/spec";
import { VERSION } from "../src/version";

const root = resolve(fileURLToPath(import.meta.url), "../..");
const target = join(root, "public/api/v1/openapi.json");
const generated = `${JSON.stringify(openApiDocument(VERSION), null, 2)}\n`;

if (process.argv.includes("--check")) {
  let committed = "";
  try {
    committed = readFileSync(target, "utf8");
  } catch {}
  if (committed !== generated) {
    process.stderr.write(
      "public/api/v1/openapi.json is stale (an API route or schema changed): run `npm run openapi` and commit it.\n",
    );
    process.exit(1);
  }
} else {
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, generated);
}
