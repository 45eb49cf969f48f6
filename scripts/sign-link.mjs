#!/usr/bin/env node
// Prints a signed start link, for trying the flow by hand or from a shell script:
//   npm run sign-link -- --type google_analytics --return http://localhost:3000/connected
//   npm run sign-link -- --base https://connect.example.com --type google_analytics --return https://app.example.com/settings
// The key is LINK_SIGNING_KEY from the environment, else from ./.dev.vars.
import { parseArgs } from "node:util";
import { createStartLink, DEFAULT_LINK_TTL_SECONDS, MAX_LINK_TTL_SECONDS } from "../src/security/start-link.js";
import { readDevVars } from "./lib/dev-vars.mjs";

const USAGE = `Usage: npm run sign-link -- --type TYPE --return URL [options]

  --type TYPE      Peaka connection type, e.g. google_analytics (required)
  --return URL     where the user goes afterwards; its origin must be in RETURN_ORIGINS (required)
  --name NAME      connection name (default: the type)
  --zone us|eu     Peaka zone (default: the worker's choice by host, else PEAKA_ZONE)
  --reference REF  your own key for the session (1-256 printable ASCII), signed
  --display MODE   redirect (default) or popup, signed
  --platform peaka|rivery  where the connection is made (default: peaka; rivery: --type is the datasource_id)
  --ttl SECONDS    lifetime, 1-${MAX_LINK_TTL_SECONDS} (default ${DEFAULT_LINK_TTL_SECONDS})
  --base URL       the worker's origin (default: $START_LINK_BASE_URL, else http://localhost:8787)

LINK_SIGNING_KEY is read from the environment, else from .dev.vars in the current directory.`;

function fail(message) {
  process.stderr.write(`sign-link: ${message}\n\n${USAGE}\n`);
  process.exit(2);
}

let values;
try {
  ({ values } = parseArgs({
    options: {
      type: { type: "string" },
      return: { type: "string" },
      name: { type: "string" },
      zone: { type: "string" },
      reference: { type: "string" },
      display: { type: "string" },
      platform: { type: "string" },
      ttl: { type: "string" },
      base: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  }));
} catch (error) {
  fail(error instanceof Error ? error.message : String(error));
}
if (values.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
if (!values.type) fail("--type is required");
if (!values.return) fail("--return is required");

// The same reading of .dev.vars as `npm run dev`'s, so both agree on the key.
const key = process.env.LINK_SIGNING_KEY || readDevVars(".dev.vars")?.LINK_SIGNING_KEY;
if (!key) fail("LINK_SIGNING_KEY is not set (environment or .dev.vars)");

const ttl = values.ttl === undefined ? undefined : Number(values.ttl);
try {
  const link = await createStartLink(
    {
      baseUrl: values.base ?? process.env.START_LINK_BASE_URL ?? "http://localhost:8787",
      type: values.type,
      name: values.name ?? values.type,
      returnUrl: values.return,
      ...(values.zone !== undefined ? { zone: values.zone } : {}),
      ...(values.reference !== undefined ? { reference: values.reference } : {}),
      ...(values.display !== undefined ? { display: values.display } : {}),
      ...(values.platform !== undefined ? { platform: values.platform } : {}),
      ...(ttl !== undefined ? { ttlSeconds: ttl } : {}),
    },
    key,
  );
  process.stdout.write(`${link}\n`);
} catch (error) {
  fail(error instanceof Error ? error.message : String(error));
}
