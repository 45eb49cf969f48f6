#!/usr/bin/env node
// Checks a signed `result` by hand, the way a partner's backend does:
//   RESULT_SIGNING_KEY=… node scripts/verify-result.mjs eyJhbGciOi… --audience https://app.example.com
//   RESULT_SIGNING_KEY=… node scripts/verify-result.mjs 'https://app.example.com/done?connectionId=…&status=success&result=eyJ…'
// During a rotation, RESULT_SIGNING_KEY_PREVIOUS=… adds the old key.
// Prints the claims as JSON (exit 0), or the refusal's code (exit 1). The key
// is never printed.
import { parseArgs } from "node:util";
import { ResultVerificationError, verifyResult } from "peaka-connect-edge/result";

const USAGE = `Usage: node scripts/verify-result.mjs TOKEN|RETURN_URL [--audience ORIGIN] [--issuer ORIGIN]

  TOKEN            the \`result\` query parameter; "-" or nothing reads it from standard input
  RETURN_URL       a whole return URL: its \`result\` parameter is checked, and
                   --audience defaults to its origin
  --audience ORIGIN  your origin, e.g. https://app.example.com (required with a TOKEN)
  --issuer ORIGIN    the worker's origin, e.g. https://connect.example.com (checked when given)

RESULT_SIGNING_KEY is read from the environment, and during a key rotation
RESULT_SIGNING_KEY_PREVIOUS too: a token signed under either is accepted.
Prints the claims as JSON and exits 0, or prints the refusal's code
(malformed, algorithm, signature, audience, issuer, expired, not_yet_valid, claims) and exits 1.`;

function usage(message) {
  process.stderr.write(`verify-result: ${message}\n\n${USAGE}\n`);
  process.exit(2);
}

let values;
let positionals;
try {
  ({ values, positionals } = parseArgs({
    options: {
      audience: { type: "string" },
      issuer: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    allowPositionals: true,
    strict: true,
  }));
} catch (error) {
  usage(error instanceof Error ? error.message : String(error));
}
if (values.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
if (positionals.length > 1) usage("give one token");

let input = positionals[0];
if (input === undefined || input === "-") {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  input = Buffer.concat(chunks).toString("utf8").trim();
}

let token = input;
let audience = values.audience;
if (/^https?:\/\//i.test(input)) {
  const url = new URL(input);
  token = url.searchParams.get("result") ?? "";
  audience ??= url.origin;
  if (token === "") {
    // A return URL without `result`: its status proves nothing.
    process.stdout.write("malformed\n");
    process.stderr.write("verify-result: the URL has no result parameter\n");
    process.exit(1);
  }
}
if (!audience) usage("--audience is required");

const key = process.env.RESULT_SIGNING_KEY;
if (!key) usage("RESULT_SIGNING_KEY is not set");
const previous = process.env.RESULT_SIGNING_KEY_PREVIOUS;

try {
  const claims = await verifyResult(token, previous ? [key, previous] : key, {
    audience,
    ...(values.issuer !== undefined ? { issuer: values.issuer } : {}),
  });
  process.stdout.write(`${JSON.stringify(claims, null, 2)}\n`);
} catch (error) {
  if (error instanceof ResultVerificationError) {
    process.stdout.write(`${error.code}\n`);
    process.stderr.write(`verify-result: ${error.message}\n`);
    process.exit(1);
  }
  // TypeError: the key or an option is unusable; its message never holds the key.
  usage(error instanceof Error ? error.message : String(error));
}
