import { describe, expect, it } from "vitest";
import {
  DEFAULT_CLOCK_TOLERANCE_SECONDS,
  MAX_RESULT_TTL_SECONDS,
  RESULT_ERROR_CODES,
  RESULT_TTL_SECONDS,
  type ResultInput,
  ResultVerificationError,
  resultKeyId,
  signResult,
  verifyResult,
} from "../src/security/result";

// The signed result in the Workers runtime. The same golden token is checked
// in Node (test/result.node.test.mjs), with jose as a second, independent
// implementation of HS256 JWTs.
const KEY = "result-golden-key-0123456789abcdefghij";
const OTHER_KEY = "another-result-key-0123456789abcdefghij";
const NOW = 1_763_840_000_000;
const NOW_S = NOW / 1000;
const AUDIENCE = "https://app.example.com";
const ISSUER = "https://connect.example.com";
const CLAIMS: ResultInput = {
  iss: ISSUER,
  aud: AUDIENCE,
  sub: "conn_123",
  status: "success",
  zone: "eu",
  via: "redirect",
  jti: "0b6f3c2e-6a51-4f0e-9d0a-3c6f2f6f1a01",
};
const GOLDEN =
  "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6IkIxU2FFQ3c3TXMwIn0.eyJpc3MiOiJodHRwczovL2Nvbm5lY3QuZXhhbXBsZS5jb20iLCJhdWQiOiJodHRwczovL2FwcC5leGFtcGxlLmNvbSIsInN1YiI6ImNvbm5fMTIzIiwic3RhdHVzIjoic3VjY2VzcyIsInpvbmUiOiJldSIsInZpYSI6InJlZGlyZWN0IiwianRpIjoiMGI2ZjNjMmUtNmE1MS00ZjBlLTlkMGEtM2M2ZjJmNmYxYTAxIiwiaWF0IjoxNzYzODQwMDAwLCJleHAiOjE3NjM4NDAzMDB9.n2Hs8CT58A9HOhvgIlSlzY5kf4CUipQiCF1lCuVZLbc";

const encoder = new TextEncoder();

function b64url(bytes: Uint8Array | string): string {
  const data = typeof bytes === "string" ? encoder.encode(bytes) : bytes;
  let binary = "";
  for (const byte of data) binary += String.fromCharCode(byte);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

async function hs256(input: string, key = KEY): Promise<string> {
  const k = await crypto.subtle.importKey("raw", encoder.encode(key), { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
  ]);
  return b64url(new Uint8Array(await crypto.subtle.sign("HMAC", k, encoder.encode(input))));
}

/** A JWT assembled by hand, independently of result.js: base64url(JSON) parts and an HMAC-SHA256 signature. */
async function forge(header: unknown, payload: unknown, key = KEY): Promise<string> {
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}`;
  return `${input}.${await hs256(input, key)}`;
}

const HS256 = { alg: "HS256", typ: "JWT" };
const payload = (overrides: Record<string, unknown> = {}) => ({
  iss: ISSUER,
  aud: AUDIENCE,
  sub: "conn_123",
  status: "success",
  zone: "eu",
  via: "exchange",
  iat: NOW_S,
  exp: NOW_S + 300,
  jti: "jti-1",
  ...overrides,
});

const verify = (token: unknown, options: Record<string, unknown> = {}, key = KEY) =>
  verifyResult(token, key, { audience: AUDIENCE, now: NOW, ...options });

/** The `code` verifyResult refused with; fails the test if it accepted or threw something else. */
async function refusal(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(ResultVerificationError);
    expect(error).toBeInstanceOf(Error);
    const { code, message, name } = error as ResultVerificationError;
    expect(name).toBe("ResultVerificationError");
    expect(RESULT_ERROR_CODES).toContain(code);
    expect(message).not.toContain(KEY);
    return code;
  }
  throw new Error("verifyResult accepted the token");
}

describe("signed result: signing", () => {
  it("produces the documented token for a fixed input (same bytes as in Node)", async () => {
    expect(await signResult(CLAIMS, KEY, { now: NOW })).toBe(GOLDEN);
  });

  it("is a standard HS256 compact JWS: header, claims and signature checked by hand", async () => {
    const token = await signResult({ ...CLAIMS, jti: undefined }, KEY, { now: NOW + 999 });
    const [header = "", body = "", signature = ""] = token.split(".");
    expect(token.split(".")).toHaveLength(3);
    expect(JSON.parse(atob(header))).toEqual({ alg: "HS256", typ: "JWT", kid: await resultKeyId(KEY) });
    const claims = JSON.parse(
      new TextDecoder().decode(
        Uint8Array.from(atob(body.replaceAll("-", "+").replaceAll("_", "/")), (c) => c.charCodeAt(0)),
      ),
    );
    expect(claims).toMatchObject({
      ...CLAIMS,
      jti: expect.stringMatching(/^[0-9a-f-]{36}$/),
      iat: NOW_S,
      exp: NOW_S + RESULT_TTL_SECONDS,
    });
    expect(signature).toBe(await hs256(`${header}.${body}`));
    expect(token).not.toMatch(/[=+/]/);
  });

  it("gives every result its own jti", async () => {
    const tokens = await Promise.all(
      Array.from({ length: 20 }, () => signResult({ ...CLAIMS, jti: undefined }, KEY, { now: NOW })),
    );
    const jtis = await Promise.all(tokens.map(async (t) => (await verify(t)).jti));
    expect(new Set(jtis).size).toBe(20);
  });

  it("signs a failure with its error, and passes extra string claims (sid, ref) through", async () => {
    const token = await signResult(
      { ...CLAIMS, status: "fail", error: "access_denied", sid: "sess_1", ref: "order-42", ref2: undefined },
      KEY,
      { now: NOW, ttlSeconds: MAX_RESULT_TTL_SECONDS },
    );
    const claims = await verify(token);
    expect(claims).toMatchObject({ status: "fail", error: "access_denied", sid: "sess_1", ref: "order-42" });
    expect(claims.exp - claims.iat).toBe(600);
    expect("ref2" in claims).toBe(false);
  });

  it.each([
    [{ status: "pending" }, /status/],
    [{ status: "fail" }, /error is required/],
    [{ status: "fail", error: "" }, /error is required/],
    [{ error: "access_denied" }, /error is required/],
    [{ via: "carrier-pigeon" }, /via/],
    [{ iss: "https://connect.example.com/" }, /iss must be an origin/],
    [{ iss: "connect.example.com" }, /iss must be an origin/],
    [{ aud: "https://app.example.com/return?x=1" }, /aud must be an origin/],
    [{ aud: undefined }, /aud must be an origin/],
    [{ iat: "1" }, /iat is set by signResult/],
    [{ exp: "1" }, /exp is set by signResult/],
    [{ ref: 42 }, /claim ref must be a string/],
  ])("refuses to sign %j", async (override, message) => {
    await expect(signResult({ ...CLAIMS, ...(override as object) } as ResultInput, KEY)).rejects.toThrow(message);
  });

  it.each([0, 601, 1.5, Number.NaN])("refuses a lifetime of %s seconds", async (ttlSeconds) => {
    await expect(signResult(CLAIMS, KEY, { ttlSeconds })).rejects.toThrow(/ttlSeconds/);
  });

  it("refuses a key shorter than 32 characters, without echoing it", async () => {
    const short = "short-secret-31-characters-long";
    expect(short).toHaveLength(31);
    const error = await signResult(CLAIMS, short).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).toMatch(/at least 32/);
    expect((error as Error).message).not.toContain(short);
    await expect(signResult(CLAIMS, undefined as unknown as string)).rejects.toThrow(TypeError);
    expect(await signResult(CLAIMS, `${short}x`)).toMatch(/^ey/);
  });
});

describe("signed result: verification", () => {
  it("round-trips: verifies what signResult made and returns the claims", async () => {
    const token = await signResult(CLAIMS, KEY, { now: NOW });
    expect(await verify(token, { issuer: ISSUER })).toEqual({ ...CLAIMS, iat: NOW_S, exp: NOW_S + 300 });
    expect((await verifyResult(await signResult(CLAIMS, KEY), KEY, { audience: AUDIENCE })).status).toBe("success");
  });

  it("accepts a token built by hand (standard HS256 compact form, no typ header)", async () => {
    expect(await verify(await forge(HS256, payload()))).toEqual(payload());
    expect((await verify(await forge({ alg: "HS256" }, payload()))).jti).toBe("jti-1");
    expect((await verify(await forge({ alg: "HS256", kid: "k1" }, payload()))).jti).toBe("jti-1");
  });

  it("rejects a tampered payload", async () => {
    const [header, , signature] = GOLDEN.split(".");
    const evil = b64url(JSON.stringify({ ...payload(), aud: AUDIENCE, status: "success", sub: "conn_evil" }));
    expect(await refusal(verify(`${header}.${evil}.${signature}`))).toBe("signature");
  });

  it("rejects a tampered signature, a re-spelled one and an empty one", async () => {
    const token = await signResult(CLAIMS, KEY, { now: NOW });
    const signature = token.split(".")[2] ?? "";
    const flipped = `${signature.slice(0, 10)}${signature[10] === "A" ? "B" : "A"}${signature.slice(11)}`;
    expect(await refusal(verify(token.replace(signature, flipped)))).toBe("signature");
    // The last of 43 base64url characters carries 2 unused bits: one of four spellings is canonical.
    const last = signature.at(-1) ?? "";
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const respelled = `${signature.slice(0, -1)}${alphabet[alphabet.indexOf(last) ^ 1]}`;
    expect(await refusal(verify(token.replace(signature, respelled)))).toBe("signature");
    expect(await refusal(verify(token.replace(signature, "")))).toBe("signature");
    expect(await refusal(verify(`${token}=`))).toBe("signature");
  });

  it("rejects a token signed with another key", async () => {
    expect(await refusal(verify(await signResult(CLAIMS, OTHER_KEY, { now: NOW })))).toBe("signature");
    expect(await refusal(verify(await forge(HS256, payload(), OTHER_KEY)))).toBe("signature");
  });

  it.each([
    ["alg none, no signature", { alg: "none", typ: "JWT" }, "none"],
    ["alg none, with a signature", { alg: "none", typ: "JWT" }, "hs256"],
    ["alg none, two parts", { alg: "none" }, "two-parts"],
    ["alg None", { alg: "None" }, "hs256"],
    ["alg HS384", { alg: "HS384", typ: "JWT" }, "hs256"],
    ["alg HS512", { alg: "HS512", typ: "JWT" }, "hs256"],
    ["alg RS256", { alg: "RS256", typ: "JWT" }, "hs256"],
    ["alg hs256 (lower case)", { alg: "hs256", typ: "JWT" }, "hs256"],
    ["alg missing", { typ: "JWT" }, "hs256"],
    ["alg as an array", { alg: ["HS256"] }, "hs256"],
  ])("refuses %s", async (_, header, form) => {
    const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload()))}`;
    const token = form === "none" ? `${input}.` : form === "two-parts" ? input : `${input}.${await hs256(input)}`;
    expect(await refusal(verify(token))).toBe("algorithm");
  });

  it("refuses an unknown typ and any crit header", async () => {
    expect(await refusal(verify(await forge({ alg: "HS256", typ: "at+jwt" }, payload())))).toBe("malformed");
    expect(await refusal(verify(await forge({ alg: "HS256", crit: ["b64"], b64: false }, payload())))).toBe(
      "malformed",
    );
  });

  it("rejects an expired token (exp reached, beyond the clock tolerance)", async () => {
    const token = await signResult(CLAIMS, KEY, { now: NOW, ttlSeconds: 60 });
    const tolerance = DEFAULT_CLOCK_TOLERANCE_SECONDS * 1000;
    expect((await verify(token, { now: NOW + 60_000 + tolerance - 1000 })).sub).toBe("conn_123");
    expect(await refusal(verify(token, { now: NOW + 60_000 + tolerance }))).toBe("expired");
    expect(await refusal(verify(token, { now: NOW + 60_000, clockToleranceSeconds: 0 }))).toBe("expired");
    expect((await verify(token, { now: NOW + 59_999, clockToleranceSeconds: 0 })).sub).toBe("conn_123");
  });

  it("rejects a token issued in the future (iat or nbf beyond the clock tolerance)", async () => {
    const ahead = await signResult(CLAIMS, KEY, { now: NOW + 31_000 });
    expect(await refusal(verify(ahead))).toBe("not_yet_valid");
    expect((await verify(await signResult(CLAIMS, KEY, { now: NOW + 30_000 }))).sub).toBe("conn_123");
    expect(await refusal(verify(ahead, { clockToleranceSeconds: 0, now: NOW + 30_000 }))).toBe("not_yet_valid");
    expect(await refusal(verify(await forge(HS256, payload({ nbf: NOW_S + 60 }))))).toBe("not_yet_valid");
  });

  it("rejects a validly signed token that lives longer than 600 seconds, or ends before it starts", async () => {
    expect(await refusal(verify(await forge(HS256, payload({ exp: NOW_S + 601 }))))).toBe("claims");
    expect((await verify(await forge(HS256, payload({ exp: NOW_S + 600 })))).exp).toBe(NOW_S + 600);
    expect(await refusal(verify(await forge(HS256, payload({ iat: NOW_S - 3600, exp: NOW_S + 60 }))))).toBe("claims");
    expect(await refusal(verify(await forge(HS256, payload({ exp: NOW_S })), { now: NOW - 10_000 }))).toBe("claims");
  });

  it("rejects another audience; compares it exactly", async () => {
    const token = await signResult(CLAIMS, KEY, { now: NOW });
    expect(await refusal(verify(token, { audience: "https://evil.example.com" }))).toBe("audience");
    expect(await refusal(verify(token, { audience: "http://app.example.com" }))).toBe("audience");
    expect(await refusal(verify(token, { audience: "https://app.example.com:8443" }))).toBe("audience");
    expect(await refusal(verify(await forge(HS256, payload({ aud: `${AUDIENCE}/` }))))).toBe("audience");
  });

  it("rejects another issuer when one is expected", async () => {
    const token = await signResult({ ...CLAIMS, iss: "https://evil.example.com" }, KEY, { now: NOW });
    expect(await refusal(verify(token, { issuer: ISSUER }))).toBe("issuer");
    expect((await verify(token)).iss).toBe("https://evil.example.com");
  });

  it.each([
    ["status other than success or fail", { status: "ok" }],
    ["status fail without error", { status: "fail" }],
    ["an error with status success", { error: "x" }],
    ["a numeric sub", { sub: 123 }],
    ["a non-string ref", { ref: ["a"] }],
    ["an unknown via", { via: "mail" }],
    ["an array aud", { aud: [AUDIENCE] }],
    ["no iss", { iss: undefined }],
    ["no jti", { jti: undefined }],
    ["a string exp", { exp: String(NOW_S + 300) }],
    ["a fractional iat", { iat: NOW_S + 0.5 }],
    ["no iat", { iat: undefined }],
  ])("rejects a validly signed token with %s", async (_, overrides) => {
    expect(await refusal(verify(await forge(HS256, payload(overrides))))).toBe("claims");
  });

  it.each([
    ["an empty string", ""],
    ["one part", "abc"],
    ["two dots only", ".."],
    ["four parts", `${GOLDEN}.x`],
    ["five parts (JWE-shaped)", "a.b.c.d.e"],
    ["a header that is not base64url", `!!!.${GOLDEN.split(".").slice(1).join(".")}`],
    ["a header that is not JSON", `${b64url("not json")}.${GOLDEN.split(".").slice(1).join(".")}`],
    ["a header that is a JSON array", `${b64url('["HS256"]')}.${GOLDEN.split(".").slice(1).join(".")}`],
    ["a header that is not UTF-8", `${b64url(new Uint8Array([0xff, 0xfe]))}.${GOLDEN.split(".").slice(1).join(".")}`],
    ["a padded header", `${b64url(JSON.stringify(HS256))}=.${GOLDEN.split(".").slice(1).join(".")}`],
    ["an empty payload", `${GOLDEN.split(".")[0]}..${GOLDEN.split(".")[2]}`],
    ["a payload with +/", `${GOLDEN.split(".")[0]}.ab+/.${GOLDEN.split(".")[2]}`],
    ["an oversized token", `${GOLDEN.split(".")[0]}.${"A".repeat(9000)}.x`],
    ["a number", 42],
    ["undefined (no result parameter)", undefined],
    ["an array (a repeated parameter)", [GOLDEN, GOLDEN]],
  ])("rejects %s as malformed", async (_, token) => {
    expect(await refusal(verify(token))).toBe("malformed");
  });

  it.each([
    ["a payload that is not JSON", "not json"],
    ["a payload that is a JSON string", '"claims"'],
    ["a payload that is null", "null"],
  ])("rejects a validly signed token with %s as malformed", async (_, body) => {
    const input = `${b64url(JSON.stringify(HS256))}.${b64url(body)}`;
    expect(await refusal(verify(`${input}.${await hs256(input)}`))).toBe("malformed");
  });

  it("throws TypeError (not a refusal) on a short key or unusable options", async () => {
    const token = await signResult(CLAIMS, KEY, { now: NOW });
    await expect(verifyResult(token, "short", { audience: AUDIENCE })).rejects.toThrow(TypeError);
    await expect(verifyResult(token, KEY, {} as never)).rejects.toThrow(/audience must be an origin/);
    await expect(verifyResult(token, KEY, undefined as never)).rejects.toThrow(/audience must be an origin/);
    await expect(verifyResult(token, KEY, { audience: `${AUDIENCE}/` })).rejects.toThrow(/audience must be an origin/);
    await expect(verifyResult(token, KEY, { audience: AUDIENCE, issuer: "x" })).rejects.toThrow(/issuer/);
    await expect(verifyResult(token, KEY, { audience: AUDIENCE, clockToleranceSeconds: -1 })).rejects.toThrow(
      /clockToleranceSeconds/,
    );
  });

  it("exports one error class with stable codes", () => {
    expect(RESULT_ERROR_CODES).toEqual([
      "malformed",
      "algorithm",
      "signature",
      "audience",
      "issuer",
      "expired",
      "not_yet_valid",
      "claims",
    ]);
    const error = new ResultVerificationError("expired", "x");
    expect(error.code).toBe("expired");
    expect(error).toBeInstanceOf(Error);
  });
});
