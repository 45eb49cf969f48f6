import { describe, expect, it } from "vitest";
import {
  canonicalPayload,
  createStartLink,
  MAX_LINK_TTL_SECONDS,
  signPayload,
  verifyStartLink,
} from "../src/security/start-link";

// The signer and verifier in the Workers runtime. The same vector is checked
// in Node (test/start-link.node.test.mjs), which proves a link signed by a
// partner's Node backend verifies here.
const KEY = "golden-vector-key-0123456789abcdefghij";
const NOW = 1_763_840_000_000;
const GOLDEN = {
  input: {
    baseUrl: "https://connect.example.com",
    type: "google_analytics",
    name: "Web & App analytics",
    returnUrl: "https://app.example.com/settings?tab=data&x=1",
    zone: "eu",
    now: NOW,
    nonce: "n0nce-golden-vector-01",
  },
  link: "https://connect.example.com/oauth2/start?type=google_analytics&name=Web+%26+App+analytics&returnUrl=https%3A%2F%2Fapp.example.com%2Fsettings%3Ftab%3Ddata%26x%3D1&zone=eu&exp=1763840600&nonce=n0nce-golden-vector-01&sig=bIXlsK1yJMLo9JhQhe34j8fxeJtavvygZFYiOezTmtU",
} as const;

const query = (link: string) => new URL(link).search.slice(1);

async function signed(fields: Record<string, string>, key = KEY): Promise<string> {
  const params = new URLSearchParams(fields);
  params.append("sig", await signPayload(fields, key));
  return params.toString();
}

const base = { type: "hubspot", name: "CRM", returnUrl: "https://app.example.com/", nonce: "abcdefghijklmnop" };

describe("start links: signing", () => {
  it("produces the documented link for a fixed input (same bytes as in Node)", async () => {
    expect(await createStartLink(GOLDEN.input, KEY)).toBe(GOLDEN.link);
  });

  it("signs the documented canonical payload", async () => {
    const fields = Object.fromEntries(new URLSearchParams(query(GOLDEN.link)));
    expect(canonicalPayload(fields)).toBe(
      "peaka-connect-edge/start-link/v1\ntype=google_analytics&name=Web+%26+App+analytics&returnUrl=https%3A%2F%2Fapp.example.com%2Fsettings%3Ftab%3Ddata%26x%3D1&zone=eu&exp=1763840600&nonce=n0nce-golden-vector-01",
    );
  });

  it("round-trips every field, with a random nonce and the default lifetime", async () => {
    const link = await createStartLink(
      { baseUrl: "https://c.example.com", type: "t", name: "n =&?#\u00e9", returnUrl: "https://a.example/?q=1&r=%20" },
      KEY,
    );
    const check = await verifyStartLink(query(link), KEY);
    expect(check.ok).toBe(true);
    if (!check.ok) return;
    expect(check.link).toMatchObject({ type: "t", name: "n =&?#\u00e9", returnUrl: "https://a.example/?q=1&r=%20" });
    expect(check.link.zone).toBeUndefined();
    expect(check.link.nonce).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(check.link.exp - Math.floor(Date.now() / 1000)).toBeGreaterThan(590);
    expect(check.link.exp - Math.floor(Date.now() / 1000)).toBeLessThanOrEqual(600);
  });

  it("gives every link its own nonce", async () => {
    const links = await Promise.all(
      Array.from({ length: 20 }, () => createStartLink({ ...GOLDEN.input, nonce: undefined }, KEY)),
    );
    expect(new Set(links.map((l) => new URL(l).searchParams.get("nonce"))).size).toBe(20);
  });

  it.each([
    [{ ttlSeconds: MAX_LINK_TTL_SECONDS + 1 }, /ttlSeconds/],
    [{ ttlSeconds: 0 }, /ttlSeconds/],
    [{ ttlSeconds: 1.5 }, /ttlSeconds/],
    [{ type: "" }, /type is required/],
    [{ returnUrl: "" }, /returnUrl is required/],
    [{ baseUrl: "" }, /baseUrl is required/],
    [{ zone: "ap" }, /zone/],
    [{ nonce: "short" }, /nonce/],
  ])("refuses to sign %j", async (override, message) => {
    await expect(createStartLink({ ...GOLDEN.input, ...(override as object) }, KEY)).rejects.toThrow(message);
  });

  it("refuses a key shorter than 32 characters", async () => {
    await expect(createStartLink(GOLDEN.input, "too-short")).rejects.toThrow(/at least 32/);
  });
});

describe("start links: verification", () => {
  it("accepts the golden link within its lifetime and rejects it after", async () => {
    expect((await verifyStartLink(query(GOLDEN.link), KEY, { now: NOW })).ok).toBe(true);
    expect(await verifyStartLink(query(GOLDEN.link), KEY, { now: NOW + 600_000 })).toEqual({
      ok: false,
      reason: "expired",
    });
    expect((await verifyStartLink(query(GOLDEN.link), KEY, { now: NOW + 599_000 })).ok).toBe(true);
  });

  it("rejects a link signed with another key", async () => {
    const other = await createStartLink({ ...GOLDEN.input }, "another-key-0123456789abcdefghijklmnop");
    expect(await verifyStartLink(query(other), KEY, { now: NOW })).toEqual({ ok: false, reason: "bad_signature" });
  });

  it.each([
    ["type", "hubspot"],
    ["name", "Web & App analytic"],
    ["returnUrl", "https://evil.example.com/settings?tab=data&x=1"],
    ["zone", "us"],
    ["exp", "1763840601"],
    ["nonce", "n0nce-golden-vector-02"],
  ])("rejects a tampered %s", async (field, value) => {
    const url = new URL(GOLDEN.link);
    url.searchParams.set(field, value);
    expect(await verifyStartLink(query(url.href), KEY, { now: NOW })).toEqual({ ok: false, reason: "bad_signature" });
  });

  it("rejects a removed optional field (zone) and an added one", async () => {
    const url = new URL(GOLDEN.link);
    url.searchParams.delete("zone");
    expect(await verifyStartLink(query(url.href), KEY, { now: NOW })).toEqual({ ok: false, reason: "bad_signature" });
    const unzoned = await createStartLink({ ...GOLDEN.input, zone: undefined }, KEY);
    const zoned = new URL(unzoned);
    zoned.searchParams.append("zone", "eu");
    expect(await verifyStartLink(query(zoned.href), KEY, { now: NOW })).toEqual({ ok: false, reason: "bad_signature" });
  });

  it("rejects a re-spelled signature that decodes to the same bytes", async () => {
    const sig = new URL(GOLDEN.link).searchParams.get("sig") ?? "";
    // The last of 43 base64url characters carries 2 unused bits: U (20) and V (21) decode alike.
    const respelled = GOLDEN.link.replace(`sig=${sig}`, `sig=${sig.slice(0, -1)}V`);
    expect(sig.endsWith("U")).toBe(true);
    expect(await verifyStartLink(query(respelled), KEY, { now: NOW })).toEqual({ ok: false, reason: "bad_signature" });
  });

  it.each([
    ["a second returnUrl", "&returnUrl=https%3A%2F%2Fevil.com", "duplicate_parameter"],
    ["a second sig", "&sig=bIXlsK1yJMLo9JhQhe34j8fxeJtavvygZFYiOezTmtU", "duplicate_parameter"],
    ["an empty second sig", "&sig=", "duplicate_parameter"],
    ["an unsigned parameter", "&utm_source=mail", "unexpected_parameter"],
    ["an unsigned connectionCallback", "&connectionCallback=https%3A%2F%2Fevil.com", "unexpected_parameter"],
  ])("rejects %s", async (_, extra, reason) => {
    expect(await verifyStartLink(`${query(GOLDEN.link)}${extra}`, KEY, { now: NOW })).toEqual({ ok: false, reason });
  });

  it.each(["returnUrl=https%3A%2F%2Fevil.com", "sig="])(
    "rejects %s placed before the signed parameters",
    async (first) => {
      const polluted = `${first}&${query(GOLDEN.link)}`;
      expect(await verifyStartLink(polluted, KEY, { now: NOW })).toEqual({ ok: false, reason: "duplicate_parameter" });
    },
  );

  it.each(["type", "name", "returnUrl", "exp", "nonce", "sig"])("rejects a link without %s", async (field) => {
    const url = new URL(GOLDEN.link);
    url.searchParams.delete(field);
    const reason = field === "sig" ? "bad_signature" : "missing_parameter";
    expect(await verifyStartLink(query(url.href), KEY, { now: NOW })).toEqual({ ok: false, reason });
  });

  it.each(["", "x", "AAAA", "!".repeat(43), "bIXlsK1yJMLo9JhQhe34j8fxeJtavvygZFYiOezTmtU="])(
    "rejects the signature %j",
    async (sig) => {
      const url = new URL(GOLDEN.link);
      url.searchParams.set("sig", sig);
      expect(await verifyStartLink(query(url.href), KEY, { now: NOW })).toEqual({ ok: false, reason: "bad_signature" });
    },
  );

  it("rejects a validly signed link that lives longer than 15 minutes (plus clock allowance)", async () => {
    const nowSeconds = Math.floor(NOW / 1000);
    const tooFar = await signed({ ...base, exp: String(nowSeconds + 900 + 121) });
    expect(await verifyStartLink(tooFar, KEY, { now: NOW })).toEqual({ ok: false, reason: "too_long_lived" });
    const edge = await signed({ ...base, exp: String(nowSeconds + 900 + 120) });
    expect((await verifyStartLink(edge, KEY, { now: NOW })).ok).toBe(true);
  });

  it.each([
    ["a non-numeric exp", { exp: "soon" }],
    ["an exp with a sign", { exp: "+1763840600" }],
    ["a short nonce", { exp: "1763840600", nonce: "short" }],
    ["a nonce with other characters", { exp: "1763840600", nonce: "abcdefghijklmnop!" }],
  ])("rejects a validly signed link with %s", async (_, fields) => {
    const link = await signed({ ...base, ...fields });
    expect(await verifyStartLink(link, KEY, { now: NOW })).toEqual({ ok: false, reason: "malformed" });
  });

  it("refuses an oversized query before any crypto", async () => {
    expect(await verifyStartLink(`type=${"a".repeat(9000)}`, KEY)).toEqual({ ok: false, reason: "malformed" });
  });
});
