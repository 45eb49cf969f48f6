// The signed result as a partner's Node backend uses it: imported by package
// name through package.json "exports", run in plain Node (no bundler, no
// Workers runtime). The golden token is the one the Workers suite
// (test/result.test.ts) signs, and jose, an independent JWT library, checks
// that it is a standard HS256 JWT both ways.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import * as jose from "jose";
import * as result from "peaka-connect-edge/result";

const { ResultVerificationError, signResult, verifyResult } = result;
const run = promisify(execFile);
const ROOT = fileURLToPath(new URL("..", import.meta.url));
const SCRIPT = join(ROOT, "scripts/verify-result.mjs");

const KEY = "result-golden-key-0123456789abcdefghij";
const OTHER_KEY = "another-result-key-0123456789abcdefghij";
const SECRET = new TextEncoder().encode(KEY);
const NOW = 1_763_840_000_000;
const NOW_S = NOW / 1000;
const AUDIENCE = "https://app.example.com";
const ISSUER = "https://connect.example.com";
const CLAIMS = {
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

/** The refusal's code; fails if verifyResult accepted the token. */
async function refusal(promise) {
  await assert.rejects(promise, (error) => error instanceof ResultVerificationError);
  return promise.catch((error) => error.code);
}

/** A token jose signs, with the claims a worker result carries. */
function joseToken(alg, { key = SECRET, now = NOW_S, claims = {} } = {}) {
  return new jose.SignJWT({ status: "success", sub: "conn_9", via: "exchange", ...claims })
    .setProtectedHeader({ alg, typ: "JWT" })
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setIssuedAt(now)
    .setExpirationTime(now + 120)
    .setJti("jose-jti-1")
    .sign(key);
}

describe("peaka-connect-edge/result in Node", () => {
  it("exports exactly the documented API", () => {
    assert.deepEqual(Object.keys(result).sort(), [
      "DEFAULT_CLOCK_TOLERANCE_SECONDS",
      "MAX_RESULT_TTL_SECONDS",
      "MIN_KEY_LENGTH",
      "RESULT_ERROR_CODES",
      "RESULT_TTL_SECONDS",
      "ResultVerificationError",
      "resultKeyId",
      "signResult",
      "verifyResult",
    ]);
    assert.equal(result.MAX_RESULT_TTL_SECONDS, 600);
    assert.equal(result.MIN_KEY_LENGTH, 32);
    assert.deepEqual(result.RESULT_ERROR_CODES, [
      "malformed",
      "algorithm",
      "signature",
      "audience",
      "issuer",
      "expired",
      "not_yet_valid",
      "claims",
    ]);
  });

  it("signs the same token as the Workers runtime for the golden input, and verifies it", async () => {
    assert.equal(await signResult(CLAIMS, KEY, { now: NOW }), GOLDEN);
    const claims = await verifyResult(GOLDEN, KEY, { audience: AUDIENCE, issuer: ISSUER, now: NOW });
    assert.deepEqual(claims, { ...CLAIMS, iat: NOW_S, exp: NOW_S + 300 });
  });

  it("refuses the golden token after it expires, elsewhere, or under another key", async () => {
    assert.equal(await refusal(verifyResult(GOLDEN, KEY, { audience: AUDIENCE })), "expired");
    assert.equal(
      await refusal(verifyResult(GOLDEN, KEY, { audience: "https://evil.example.com", now: NOW })),
      "audience",
    );
    assert.equal(await refusal(verifyResult(GOLDEN, OTHER_KEY, { audience: AUDIENCE, now: NOW })), "signature");
  });
});

describe("key rotation: kid and several keys", () => {
  const options = { audience: AUDIENCE, issuer: ISSUER, now: NOW };
  const header = (token) => JSON.parse(Buffer.from(token.split(".")[0], "base64url").toString("utf8"));
  /** verifyResult with a Web Crypto whose HMAC verify calls are counted: which keys were tried. */
  async function verifyCounting(token, keys) {
    const verify = crypto.subtle.verify;
    let calls = 0;
    crypto.subtle.verify = (...args) => {
      calls++;
      return verify.apply(crypto.subtle, args);
    };
    try {
      return { claims: await verifyResult(token, keys, options), calls };
    } finally {
      crypto.subtle.verify = verify;
    }
  }

  it("kid is the first 8 bytes of the key's SHA-256, base64url, and names the signing key", async () => {
    const expected = createHash("sha256").update(KEY).digest().subarray(0, 8).toString("base64url");
    assert.equal(await result.resultKeyId(KEY), expected);
    assert.equal(expected, "B1SaECw7Ms0");
    assert.equal(header(GOLDEN).kid, expected);
    assert.notEqual(await result.resultKeyId(OTHER_KEY), expected);
    assert.ok(!expected.includes(KEY.slice(0, 8)));
    await assert.rejects(result.resultKeyId("short"), TypeError);
  });

  it("accepts a token signed with either key, in either order, checking only the key its kid names", async () => {
    const fromOld = await signResult(CLAIMS, OTHER_KEY, { now: NOW });
    for (const keys of [
      [KEY, OTHER_KEY],
      [OTHER_KEY, KEY],
    ]) {
      const a = await verifyCounting(GOLDEN, keys);
      assert.equal(a.claims.sub, "conn_123");
      assert.equal(a.calls, 1, "only the key the kid names is tried");
      const b = await verifyCounting(fromOld, keys);
      assert.equal(b.claims.sub, "conn_123");
      assert.equal(b.calls, 1);
    }
  });

  it("tries every key for a token without a kid (signed before kids) or with a kid no key has", async () => {
    const unnamed = await joseToken("HS256", { key: new TextEncoder().encode(OTHER_KEY) });
    const { claims, calls } = await verifyCounting(unnamed, [KEY, OTHER_KEY]);
    assert.equal(claims.sub, "conn_9");
    assert.equal(calls, 2);
    const foreignKid = await new jose.SignJWT({ status: "success", jti: "j" })
      .setProtectedHeader({ alg: "HS256", typ: "JWT", kid: "someone-else" })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setIssuedAt(NOW_S)
      .setExpirationTime(NOW_S + 300)
      .sign(SECRET);
    assert.equal((await verifyCounting(foreignKid, [OTHER_KEY, KEY])).claims.jti, "j");
  });

  it("refuses a token signed with a key not given, a kid that is not a string, and an empty key list", async () => {
    const third = "a-third-result-key-0123456789abcdefghij";
    const token = await signResult(CLAIMS, third, { now: NOW });
    assert.equal(await refusal(verifyResult(token, [KEY, OTHER_KEY], options)), "signature");
    // The kid names a key, but the signature is another's: the named key decides.
    const [, body, signature] = token.split(".");
    const renamed = `${Buffer.from(JSON.stringify({ alg: "HS256", typ: "JWT", kid: header(GOLDEN).kid })).toString("base64url")}.${body}.${signature}`;
    assert.equal(await refusal(verifyResult(renamed, [KEY, third], options)), "signature");
    const numeric = `${Buffer.from(JSON.stringify({ alg: "HS256", typ: "JWT", kid: 7 })).toString("base64url")}.${body}.${signature}`;
    assert.equal(await refusal(verifyResult(numeric, [third], options)), "malformed");
    await assert.rejects(verifyResult(GOLDEN, [], options), TypeError);
    await assert.rejects(verifyResult(GOLDEN, [KEY, "short"], options), TypeError);
  });
});

describe("interoperability with jose (an independent JWT library)", () => {
  it("jose.jwtVerify accepts our token with the key's UTF-8 bytes and HS256 only", async () => {
    const { payload, protectedHeader } = await jose.jwtVerify(GOLDEN, SECRET, {
      algorithms: ["HS256"],
      audience: AUDIENCE,
      issuer: ISSUER,
      currentDate: new Date(NOW),
      requiredClaims: ["iat", "exp", "jti", "sub"],
    });
    assert.deepEqual(protectedHeader, { alg: "HS256", typ: "JWT", kid: "B1SaECw7Ms0" });
    assert.deepEqual(payload, { ...CLAIMS, iat: NOW_S, exp: NOW_S + 300 });

    const fresh = await signResult(
      { ...CLAIMS, jti: undefined, status: "fail", error: "access_denied", ref: "o-1" },
      KEY,
    );
    const checked = await jose.jwtVerify(fresh, SECRET, { algorithms: ["HS256"], audience: AUDIENCE });
    assert.equal(checked.payload.error, "access_denied");
    assert.equal(checked.payload.ref, "o-1");
    assert.equal(checked.payload.exp - checked.payload.iat, 300);
  });

  it("jose refuses our token under another key or audience (it is really checking)", async () => {
    const options = { algorithms: ["HS256"], currentDate: new Date(NOW) };
    await assert.rejects(
      jose.jwtVerify(GOLDEN, new TextEncoder().encode(OTHER_KEY), { ...options, audience: AUDIENCE }),
      { code: "ERR_JWS_SIGNATURE_VERIFICATION_FAILED" },
    );
    await assert.rejects(jose.jwtVerify(GOLDEN, SECRET, { ...options, audience: "https://evil.example.com" }), {
      code: "ERR_JWT_CLAIM_VALIDATION_FAILED",
    });
  });

  it("verifyResult accepts a token jose.SignJWT made with HS256", async () => {
    const token = await joseToken("HS256");
    const claims = await verifyResult(token, KEY, { audience: AUDIENCE, issuer: ISSUER, now: NOW });
    assert.deepEqual(claims, {
      status: "success",
      sub: "conn_9",
      via: "exchange",
      iss: ISSUER,
      aud: AUDIENCE,
      iat: NOW_S,
      exp: NOW_S + 120,
      jti: "jose-jti-1",
    });
  });

  it("verifyResult refuses tokens jose made with HS384, HS512 or another key", async () => {
    const options = { audience: AUDIENCE, now: NOW };
    assert.equal(await refusal(verifyResult(await joseToken("HS384"), KEY, options)), "algorithm");
    assert.equal(await refusal(verifyResult(await joseToken("HS512"), KEY, options)), "algorithm");
    const otherKey = await joseToken("HS256", { key: new TextEncoder().encode(OTHER_KEY) });
    assert.equal(await refusal(verifyResult(otherKey, KEY, options)), "signature");
  });

  it("verifyResult refuses an unsecured (alg none) token jose made", async () => {
    const unsecured = new jose.UnsecuredJWT({ status: "success", jti: "x" })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setIssuedAt(NOW_S)
      .setExpirationTime(NOW_S + 60)
      .encode();
    assert.match(unsecured, /\.$/);
    assert.equal(await refusal(verifyResult(unsecured, KEY, { audience: AUDIENCE, now: NOW })), "algorithm");
  });

  it("jose is a dev dependency only: nothing under src/ imports it", async () => {
    const pkg = JSON.parse(await readFile(join(ROOT, "package.json"), "utf8"));
    assert.match(pkg.devDependencies.jose, /^\d+\.\d+\.\d+$/, "exact-pinned");
    assert.equal(pkg.dependencies?.jose, undefined);
    const files = (await readdir(join(ROOT, "src"), { recursive: true })).filter((f) => /\.(ts|js|mjs)$/.test(f));
    assert.ok(files.length > 10);
    for (const file of files) {
      const text = await readFile(join(ROOT, "src", file), "utf8");
      assert.doesNotMatch(text, /(from|import)\s*\(?\s*["']jose["'/]/, file);
    }
  });
});

describe("node scripts/verify-result.mjs", () => {
  const env = { PATH: process.env.PATH ?? "" };

  it("prints the claims of a valid token as JSON, never the key", async () => {
    const token = await signResult({ ...CLAIMS, jti: undefined }, KEY);
    const { stdout, stderr } = await run(process.execPath, [SCRIPT, token, "--audience", AUDIENCE], {
      env: { ...env, RESULT_SIGNING_KEY: KEY },
    });
    const claims = JSON.parse(stdout);
    assert.equal(claims.sub, "conn_123");
    assert.equal(claims.status, "success");
    assert.ok(!stdout.includes(KEY) && !stderr.includes(KEY));
  });

  it("takes a whole return URL, its origin being the audience", async () => {
    const token = await signResult({ ...CLAIMS, jti: undefined }, KEY);
    const url = `${AUDIENCE}/settings?connectionId=conn_123&status=success&result=${token}`;
    const { stdout } = await run(process.execPath, [SCRIPT, url, "--issuer", ISSUER], {
      env: { ...env, RESULT_SIGNING_KEY: KEY },
    });
    assert.equal(JSON.parse(stdout).iss, ISSUER);
  });

  it("prints the code and exits 1 when the token is refused", async () => {
    const refused = (args, key = KEY) =>
      run(process.execPath, [SCRIPT, ...args], { env: { ...env, RESULT_SIGNING_KEY: key } }).then(
        () => assert.fail("exit 0"),
        (error) => {
          assert.equal(error.code, 1);
          assert.ok(!error.stdout.includes(key) && !error.stderr.includes(key));
          return error.stdout.trim();
        },
      );
    assert.equal(await refused([GOLDEN, "--audience", AUDIENCE]), "expired");
    const token = await signResult({ ...CLAIMS, jti: undefined }, KEY);
    assert.equal(await refused([token, "--audience", "https://evil.example.com"]), "audience");
    assert.equal(await refused([token, "--audience", AUDIENCE], OTHER_KEY), "signature");
    assert.equal(await refused([token, "--audience", AUDIENCE, "--issuer", "https://evil.example.com"]), "issuer");
    assert.equal(await refused([`${AUDIENCE}/done?connectionId=c&status=success`]), "malformed");
  });

  it("accepts a token under RESULT_SIGNING_KEY_PREVIOUS too (during a rotation)", async () => {
    const token = await signResult({ ...CLAIMS, jti: undefined }, OTHER_KEY);
    const { stdout, stderr } = await run(process.execPath, [SCRIPT, token, "--audience", AUDIENCE], {
      env: { ...env, RESULT_SIGNING_KEY: KEY, RESULT_SIGNING_KEY_PREVIOUS: OTHER_KEY },
    });
    assert.equal(JSON.parse(stdout).sub, "conn_123");
    assert.ok(![KEY, OTHER_KEY].some((k) => stdout.includes(k) || stderr.includes(k)));
    await assert.rejects(
      run(process.execPath, [SCRIPT, token, "--audience", AUDIENCE], { env: { ...env, RESULT_SIGNING_KEY: KEY } }),
      (error) => error.code === 1 && error.stdout.trim() === "signature",
    );
  });

  it("exits 2 with a usage message when the key or the audience is missing", async () => {
    const noKey = run(process.execPath, [SCRIPT, GOLDEN, "--audience", AUDIENCE], { env });
    await assert.rejects(noKey, (error) => error.code === 2 && /RESULT_SIGNING_KEY is not set/.test(error.stderr));
    const noAudience = run(process.execPath, [SCRIPT, GOLDEN], { env: { ...env, RESULT_SIGNING_KEY: KEY } });
    await assert.rejects(noAudience, (error) => error.code === 2 && /--audience is required/.test(error.stderr));
    const shortKey = run(process.execPath, [SCRIPT, GOLDEN, "--audience", AUDIENCE], {
      env: { ...env, RESULT_SIGNING_KEY: "short-key" },
    });
    await assert.rejects(
      shortKey,
      (error) => error.code === 2 && /at least 32/.test(error.stderr) && !error.stderr.includes("short-key"),
    );
  });
});
