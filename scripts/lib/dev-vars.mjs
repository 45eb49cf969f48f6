// The entry secrets of the local stack. `npm run dev` and `npm run sign-link`
// read .dev.vars through this one parser, so a link signed or a curl written
// from the README works against the workers `npm run dev` starts. No
// dependencies: sign-link imports this without pulling in the stand-in.

import { readFileSync } from "node:fs";

/**
 * The values in .dev.vars.example, used by `npm run dev` when .dev.vars does
 * not set them. Published in the README, so they protect nothing: the
 * stand-in stack binds to 127.0.0.1 and never talks to the real Peaka.
 */
export const DEV_ENTRY_SECRETS = Object.freeze({
  ADMIN_TOKEN: "dev-only-admin-token-change-me-0123456789",
  LINK_SIGNING_KEY: "dev-only-link-signing-key-change-me-0123456789",
  RESULT_SIGNING_KEY: "dev-only-result-signing-key-change-me-0123456789",
});

/**
 * WEBHOOK_SECRET of `npm run dev`'s workers, which its demo app verifies
 * webhooks with (Standard Webhooks format: whsec_ + base64). Published like
 * the values above, so it protects nothing: never deploy it.
 */
export const DEV_WEBHOOK_SECRET = "whsec_ZGV2LW9ubHktd2ViaG9vay1zZWNyZXQtY2hhbmdlLW1l";

/**
 * The variables of a dotenv-style file (KEY=value, optional quotes, whole-line
 * # comments), or undefined when there is no such file.
 * @param {string} path
 * @returns {Record<string, string> | undefined}
 */
export function readDevVars(path) {
  let text;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
  /** @type {Record<string, string>} */
  const vars = {};
  for (const line of text.split(/\r?\n/)) {
    const match = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/.exec(line);
    if (match?.[1] !== undefined) vars[match[1]] = (match[2] ?? "").replace(/^(["'])(.*)\1$/, "$2");
  }
  return vars;
}

/**
 * ADMIN_TOKEN, LINK_SIGNING_KEY and RESULT_SIGNING_KEY for `npm run dev`: each from .dev.vars
 * when it sets one (the same file `wrangler dev` and `npm run sign-link`
 * read), else the dev-only value. Never from the shell's environment: a
 * production secret exported there must not end up in a local worker.
 * @param {string} devVarsPath
 */
export function devEntrySecrets(devVarsPath) {
  const file = readDevVars(devVarsPath) ?? {};
  /** @param {keyof typeof DEV_ENTRY_SECRETS} name */
  const pick = (name) => {
    const own = file[name];
    if (own) return { value: own, source: own === DEV_ENTRY_SECRETS[name] ? "dev-only" : ".dev.vars" };
    return { value: DEV_ENTRY_SECRETS[name], source: "dev-only" };
  };
  return {
    ADMIN_TOKEN: pick("ADMIN_TOKEN"),
    LINK_SIGNING_KEY: pick("LINK_SIGNING_KEY"),
    RESULT_SIGNING_KEY: pick("RESULT_SIGNING_KEY"),
  };
}
