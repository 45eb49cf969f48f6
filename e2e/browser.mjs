// Debian's Chromium driven through playwright-core: no browser download,
// a throw-away profile, and nothing that phones home mid-test.

import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

const ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  "--disable-quic",
];

/** A fresh, empty user-data-dir; the caller removes it. */
export function freshProfile() {
  return mkdtempSync(join(tmpdir(), "peaka-e2e-profile-"));
}

/**
 * Launches Chromium on the given (fresh) profile; close() removes the profile too.
 * Playwright turns Chromium's popup blocker off; `popupBlocking` leaves it on.
 * @param {string} profile @param {{ popupBlocking?: boolean }} [options]
 */
export async function launchBrowser(profile, { popupBlocking = false } = {}) {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} not found; install it with: apt-get update && apt-get install -y chromium`);
  }
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ARGS,
    ...(popupBlocking ? { ignoreDefaultArgs: ["--disable-popup-blocking"] } : {}),
    viewport: { width: 1100, height: 760 },
    timeout: 30_000,
  });
  context.setDefaultTimeout(15_000);
  context.setDefaultNavigationTimeout(20_000);
  return {
    context,
    close: async () => {
      await context.close().catch(() => {});
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
