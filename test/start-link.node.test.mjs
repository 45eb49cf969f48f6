// The start-link signer as a partner's Node backend uses it: imported by
// package name through package.json "exports", run in plain Node (no
// bundler, no Workers runtime). The golden vector is the one the Workers
// suite (test/start-link.test.ts) checks, so equal output here and there
// means a link signed in Node verifies in the worker.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createHmac } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { canonicalPayload, createStartLink, verifyStartLink } from "peaka-connect-edge/start-link";

const run = promisify(execFile);
const SCRIPT = fileURLToPath(new URL("../scripts/sign-link.mjs", import.meta.url));

const KEY = "golden-vector-key-0123456789abcdefghij";
const NOW = 1_763_840_000_000;
const GOLDEN_INPUT = {
  baseUrl: "https://connect.example.com",
  type: "google_analytics",
  name: "Web & App analytics",
  returnUrl: "https://app.example.com/settings?tab=data&x=1",
  zone: "eu",
  now: NOW,
  nonce: "n0nce-golden-vector-01",
};
const GOLDEN_LINK =
  "https://connect.example.com/oauth2/start?type=google_analytics&name=Web+%26+App+analytics&returnUrl=https%3A%2F%2Fapp.example.com%2Fsettings%3Ftab%3Ddata%26x%3D1&zone=eu&exp=1763840600&nonce=n0nce-golden-vector-01&sig=bIXlsK1yJMLo9JhQhe34j8fxeJtavvygZFYiOezTmtU";

const query = (link) => new URL(link).search.slice(1);

describe("createStartLink in Node", () => {
  it("produces the same link as the Workers runtime for the golden input", async () => {
    assert.equal(await createStartLink(GOLDEN_INPUT, KEY), GOLDEN_LINK);
  });

  it("signs HMAC-SHA256 over the documented canonical payload (checked with node:crypto)", async () => {
    const link = new URL(await createStartLink({ ...GOLDEN_INPUT, nonce: undefined, now: undefined }, KEY));
    const fields = Object.fromEntries(link.searchParams);
    const { sig, ...signed } = fields;
    const payload = `peaka-connect-edge/start-link/v1\n${new URLSearchParams(
      ["type", "name", "returnUrl", "zone", "exp", "nonce"].map((f) => [f, signed[f]]),
    )}`;
    assert.equal(canonicalPayload(signed), payload);
    assert.equal(sig, createHmac("sha256", KEY).update(payload).digest("base64url"));
  });

  it("verifies its own links and rejects them after expiry", async () => {
    const link = await createStartLink({ ...GOLDEN_INPUT, now: undefined, nonce: undefined, ttlSeconds: 60 }, KEY);
    const ok = await verifyStartLink(query(link), KEY);
    assert.equal(ok.ok, true);
    const later = await verifyStartLink(query(link), KEY, { now: Date.now() + 61_000 });
    assert.deepEqual(later, { ok: false, reason: "expired" });
  });

  it("rejects a tampered return URL", async () => {
    const url = new URL(GOLDEN_LINK);
    url.searchParams.set("returnUrl", "https://evil.example.com/");
    assert.deepEqual(await verifyStartLink(query(url.href), KEY, { now: NOW }), { ok: false, reason: "bad_signature" });
  });

  it("refuses a lifetime over 15 minutes and a short key", async () => {
    await assert.rejects(createStartLink({ ...GOLDEN_INPUT, ttlSeconds: 901 }, KEY), /ttlSeconds/);
    await assert.rejects(createStartLink(GOLDEN_INPUT, "short"), /at least 32/);
  });
});

describe("npm run sign-link", () => {
  const env = { PATH: process.env.PATH ?? "" };

  it("prints a link signed with LINK_SIGNING_KEY from the environment", async () => {
    const { stdout } = await run(
      process.execPath,
      [
        SCRIPT,
        "--type",
        "google_analytics",
        "--return",
        "https://app.example.com/settings",
        "--base",
        "https://c.example.com",
      ],
      { env: { ...env, LINK_SIGNING_KEY: KEY } },
    );
    const link = new URL(stdout.trim());
    assert.equal(link.origin + link.pathname, "https://c.example.com/oauth2/start");
    assert.equal(link.searchParams.get("name"), "google_analytics");
    assert.equal(link.searchParams.get("zone"), null);
    const check = await verifyStartLink(link.search.slice(1), KEY);
    assert.equal(check.ok, true);
    assert.equal(check.link.returnUrl, "https://app.example.com/settings");
  });

  it("reads the key from .dev.vars in the current directory, with zone, name and ttl", async () => {
    const dir = await mkdtemp(join(tmpdir(), "sign-link-"));
    try {
      await writeFile(join(dir, ".dev.vars"), `# local secrets\nPEAKA_API_KEY=x\nLINK_SIGNING_KEY="${KEY}"\n`);
      const { stdout } = await run(
        process.execPath,
        [
          SCRIPT,
          "--type",
          "hubspot",
          "--return",
          "https://app.example.com/",
          "--zone",
          "eu",
          "--name",
          "CRM",
          "--ttl",
          "120",
        ],
        { cwd: dir, env },
      );
      const check = await verifyStartLink(query(stdout.trim()), KEY);
      assert.equal(check.ok, true);
      assert.equal(check.link.zone, "eu");
      assert.equal(check.link.name, "CRM");
      const lifetime = check.link.exp - Math.floor(Date.now() / 1000);
      assert.ok(lifetime > 110 && lifetime <= 120, `lifetime ${lifetime}`);
      assert.equal(new URL(stdout.trim()).origin, "http://localhost:8787");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("exits 2 with a usage message when the key or a required option is missing", async () => {
    const dir = await mkdtemp(join(tmpdir(), "sign-link-"));
    try {
      const noKey = run(process.execPath, [SCRIPT, "--type", "t", "--return", "https://app.example.com/"], {
        cwd: dir,
        env,
      });
      await assert.rejects(noKey, (error) => error.code === 2 && /LINK_SIGNING_KEY is not set/.test(error.stderr));
      const noType = run(process.execPath, [SCRIPT, "--return", "https://app.example.com/"], {
        cwd: dir,
        env: { ...env, LINK_SIGNING_KEY: KEY },
      });
      await assert.rejects(noType, (error) => error.code === 2 && /--type is required/.test(error.stderr));
      const tooLong = run(
        process.execPath,
        [SCRIPT, "--type", "t", "--return", "https://a.example/", "--ttl", "3600"],
        {
          cwd: dir,
          env: { ...env, LINK_SIGNING_KEY: KEY },
        },
      );
      await assert.rejects(tooLong, (error) => error.code === 2 && /ttlSeconds/.test(error.stderr));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
