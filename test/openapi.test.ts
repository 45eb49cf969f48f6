import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import * as z from "zod/mini";
import { systemClock } from "../src/clock";
import { parseConfig } from "../src/config/load";
import * as fields from "../src/core/fields";
import { buildApp } from "../src/edge/app";
import { RegisterReturnRequest } from "../src/edge/routes/api/schemas";
import {
  API_ROUTES,
  ApiError,
  CreateConnectionResponse,
  openApiDocument,
  RegisterReturnResponse,
} from "../src/edge/routes/api/spec";
import { VERSION } from "../src/version";
import { apiInit, consentUrl, freshToken, HOST, mockCreate, RETURN_URL } from "./fixtures/start";
import { captureLogs } from "./helpers/logs";
import { API_CLIENT, call, type Overrides } from "./helpers/worker";

const logs = captureLogs();
const DOCUMENT_URL = `${HOST}/api/v1/openapi.json`;

/** The /api/v1 routes the app registers (Hono's table), as `METHOD /path/{param}`; fallbacks (`ALL`) aside. */
function registeredApiRoutes(): string[] {
  const result = parseConfig(testVars({ ADMIN_TOKEN: freshToken() }));
  const app = buildApp(result, { clock: systemClock, fetch });
  return app.routes
    .filter((route) => route.path.startsWith("/api/v1/") && route.method !== "ALL")
    .map((route) => `${route.method} ${route.path.replace(/:(\w+)/g, "{$1}")}`);
}

function testVars(overrides: Overrides) {
  return { ...env, ...overrides };
}

/** A body matches the schema and has no field the schema does not list. */
function expectDocumented(schema: z.ZodMiniObject, body: Record<string, unknown>) {
  expect(z.safeParse(schema, body).error).toBeUndefined();
  expect(Object.keys(body).filter((key) => !(key in schema.shape))).toEqual([]);
}

describe("the OpenAPI document lists the API", () => {
  it("every /api/v1 route of the app is in the registry and the other way round", () => {
    const registered = registeredApiRoutes();
    const documented = API_ROUTES.map((route) => `${route.method.toUpperCase()} ${route.path}`);
    expect(registered.length).toBeGreaterThanOrEqual(3);
    expect(new Set(registered)).toEqual(new Set(documented));
    expect(registered).toHaveLength(new Set(registered).size);
  });

  it("every registry route is in the document, with the bearer scheme unless public", () => {
    const document = openApiDocument(VERSION) as { paths: Record<string, Record<string, { security?: unknown }>> };
    for (const route of API_ROUTES) {
      const operation = document.paths[route.path]?.[route.method];
      expect(operation, `${route.method} ${route.path}`).toBeDefined();
      expect(operation?.security).toEqual(route.auth ? undefined : []);
    }
  });
});

describe("GET /api/v1/openapi.json", () => {
  it("answers the committed document, generated from the current schemas, without authentication", async () => {
    // No ADMIN_TOKEN at all: the rest of the API is disabled, the document is not.
    const res = await call(DOCUMENT_URL, { headers: API_CLIENT });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    // Drift: the asset is what `npm run openapi` would write now.
    expect(await res.json()).toEqual(openApiDocument(VERSION));
    // The worker's own headers, as on every other answer.
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.headers.get("etag")).toBeTruthy();
    const line = logs.json().find((entry) => entry.msg === "request");
    expect(line).toMatchObject({ route: "api", method: "GET", status: 200, level: "info" });
  });

  it("ignores a wrong bearer token and does not count against the API's rate limit", async () => {
    const res = await call(
      DOCUMENT_URL,
      { headers: { ...API_CLIENT, authorization: "Bearer wrong" } },
      { ADMIN_TOKEN: freshToken() },
    );
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ openapi: "3.1.0" });
  });

  it("HEAD answers the headers without a body; a matching If-None-Match answers 304", async () => {
    const get = await call(DOCUMENT_URL);
    await get.arrayBuffer();
    const head = await call(DOCUMENT_URL, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.headers.get("content-type")).toMatch(/^application\/json/);
    expect(head.headers.get("x-request-id")).toBeTruthy();
    expect(await head.text()).toBe("");
    const etag = get.headers.get("etag") ?? "";
    const cached = await call(DOCUMENT_URL, { headers: { "if-none-match": etag } });
    expect(cached.status).toBe(304);
    expect(await cached.text()).toBe("");
  });

  it("other methods answer 405 JSON with Allow, without asking for a token", async () => {
    for (const method of ["POST", "PUT", "DELETE"]) {
      const res = await call(DOCUMENT_URL, { method, headers: API_CLIENT });
      expect(res.status).toBe(405);
      expect(res.headers.get("allow")).toBe("GET, HEAD");
      expect(await res.json()).toMatchObject({ error: "method_not_allowed" });
    }
  });

  it("a neighbouring path is still the guarded API", async () => {
    const res = await call(`${HOST}/api/v1/openapi.yaml`, { headers: API_CLIENT }, { ADMIN_TOKEN: freshToken() });
    expect(res.status).toBe(401);
  });
});

describe("the API's answers match the documented schemas", () => {
  it("POST /api/v1/connections: 201 and a failure", async () => {
    const token = freshToken();
    mockCreate({ id: `conn_${crypto.randomUUID()}`, url: consentUrl("st-openapi") });
    const created = await call(
      `${HOST}/api/v1/connections`,
      apiInit("POST", { type: "google_analytics", name: "Analytics", returnUrl: RETURN_URL }, token),
      { ADMIN_TOKEN: token },
    );
    expect(created.status).toBe(201);
    expectDocumented(CreateConnectionResponse, await created.json());

    const refused = await call(
      `${HOST}/api/v1/connections`,
      apiInit("POST", { type: "google_analytics", name: "", returnUrl: 7 }, token),
      { ADMIN_TOKEN: token },
    );
    expect(refused.status).toBe(400);
    const body = (await refused.json()) as Record<string, unknown>;
    expect(body.fields).toBeDefined();
    expectDocumented(ApiError, body);
  });

  it("PUT /api/v1/connections/{connectionId}/return: 200", async () => {
    const token = freshToken();
    const res = await call(
      `${HOST}/api/v1/connections/conn_${crypto.randomUUID()}/return`,
      apiInit("PUT", { returnUrl: RETURN_URL }, token),
      { ADMIN_TOKEN: token },
    );
    expect(res.status).toBe(200);
    expectDocumented(RegisterReturnResponse, await res.json());
  });
});

describe("lengths the worker checks by regex (core/fields.ts)", () => {
  type Schema = {
    minLength?: number;
    maxLength?: number;
    additionalProperties?: Schema;
    properties?: Record<string, Schema>;
  };
  const schemas = (openApiDocument(VERSION) as { components: { schemas: Record<string, Schema> } }).components.schemas;
  const ok = (schema: z.ZodMiniType, value: string) => z.safeParse(schema, value).success;

  it("a credential value: the document's minLength and maxLength are the worker's rule", () => {
    const documented = schemas.CreateConnectionRequest?.properties?.credential?.additionalProperties;
    expect([documented?.minLength, documented?.maxLength]).toEqual([1, 8192]);
    expect(ok(fields.credentialValue, "")).toBe(false);
    expect(ok(fields.credentialValue, "a")).toBe(true);
    expect(ok(fields.credentialValue, "a".repeat(8192))).toBe(true);
    expect(ok(fields.credentialValue, "a".repeat(8193))).toBe(false);
    // Counted as String.length counts (UTF-16 units), as z.maxLength did.
    expect(ok(fields.credentialValue, "😀".repeat(4096))).toBe(true);
    expect(ok(fields.credentialValue, `${"😀".repeat(4096)}a`)).toBe(false);
  });

  it("consentUrl: the document's maxLength is the worker's rule", () => {
    expect(schemas.RegisterReturnRequest?.properties?.consentUrl?.maxLength).toBe(8192);
    const url = (n: number) => `https://a.example/${"x".repeat(n - 18)}`;
    expect(url(8192)).toHaveLength(8192);
    expect(ok(RegisterReturnRequest.shape.consentUrl, url(8192))).toBe(true);
    expect(ok(RegisterReturnRequest.shape.consentUrl, url(8193))).toBe(false);
  });
});
