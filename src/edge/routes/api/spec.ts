import * as z from "zod/mini";
import { CONNECTION_ID, CONNECTION_ID_RULE } from "../../../core/callback-params";
import * as fields from "../../../core/fields";
import { FAILURES, type FailureCode } from "../../../failures/codes";
import { SESSION_ID } from "../../../storage/records";
import { CreateConnectionRequest, RegisterReturnRequest } from "./schemas";

// The server API's description, from which `npm run openapi` writes
// public/api/v1/openapi.json (scripts/openapi.ts). The worker never imports
// this file, so none of it is in the bundle: the document is a static asset.
// test/openapi.test.ts checks that every /api/v1 route the app registers is
// listed here and the other way round, that the API's real answers match
// these schemas, and that the committed document is the one this generates.

/** Named schemas: they become `components.schemas` and are referenced, not inlined. */
export const components = z.registry<{
  id?: string;
  description?: string;
  maxProperties?: number;
  minLength?: number;
  maxLength?: number;
}>();

function component<T extends z.ZodMiniType>(id: string, schema: T, description: string): T {
  components.add(schema, { id, description });
  return schema;
}

// Field descriptions (the runtime rules live in core/fields.ts and schemas.ts;
// a refinement JSON Schema cannot express is restated here).
components.add(fields.connectionType, { description: "The platform's connection type, such as google_analytics." });
components.add(fields.connectionName, { description: "The connection's display name." });
components.add(fields.returnUrl, {
  description: "Where the user is sent back: an absolute URL whose origin is listed in RETURN_ORIGINS.",
});
components.add(fields.platform, {
  description:
    "Where the connection is made: `peaka` (the default) or `rivery`. For Rivery, `type` is the datasource_id and `name` the connection_name; `credential` is not accepted.",
});
components.add(fields.zone, { description: "The platform zone; by default the one this host serves (ZONE_BY_HOST)." });
components.add(fields.reference, {
  description:
    "The partner's own opaque reference for this flow (its user or tenant): at most 256 printable ASCII characters. Echoed in the session, the signed result (`ref`) and webhooks.",
});
components.add(fields.display, {
  description:
    "`redirect` (default): the flow ends with a redirect to the return URL. `popup`: it ends on a page that posts the outcome to the window that opened it (docs/start.md).",
});
components.add(fields.credential, {
  description:
    "The provider's client credential (e.g. clientId, clientSecret), for providers that need the partner's own OAuth app. Passed to the platform only: never stored, logged or echoed.",
  maxProperties: 32,
});

// The worker checks these lengths by regex (core/fields.ts says why); the
// document states them as lengths, and test/openapi.test.ts holds the two equal.
components.add(fields.credentialValue, { minLength: 1, maxLength: 8192 });
components.add(RegisterReturnRequest.shape.consentUrl, {
  maxLength: 8192,
  description:
    "The platform's consent URL for this connection, when the partner has it (at most 8192 characters, absolute): its `state` is then remembered too. Required with BROWSER_BINDING=required.",
});

const isoTime = z.string().check(z.regex(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/));
components.add(isoTime, { description: "ISO 8601 time, UTC." });

const Warning = component(
  "Warning",
  z.object({ code: z.enum(["redirect_uri_mismatch"]), message: z.string() }),
  "Something the partner should fix although the call succeeded.",
);

export const ApiError = component(
  "Error",
  z.object({
    error: z.enum(Object.keys(FAILURES) as [FailureCode, ...FailureCode[]]),
    message: z.string(),
    requestId: z.string(),
    connectionId: z.optional(z.string()),
    fields: z.optional(z.array(z.object({ field: z.string(), problem: z.string() }))),
  }),
  "Every failure of the API: `error` is a stable code (the same one as in the log line and on return URLs), `message` is for people, `requestId` is the X-Request-Id to quote. `fields` lists the invalid request fields.",
);

export const CreateConnectionResponse = component(
  "CreateConnectionResponse",
  z.object({
    sessionId: z.string(),
    connectionId: z.string(),
    startUrl: z.optional(z.string()),
    consentUrl: z.optional(z.string()),
    zone: fields.zone,
    expiresAt: isoTime,
    warnings: z.optional(z.array(Warning)),
  }),
  "The connection was created. Send the user's browser to `startUrl` (one use, until `expiresAt`). `consentUrl` is given only with BROWSER_BINDING=off; `startUrl` is absent when the provider needs no consent.",
);
export const RiveryConnectionResponse = component(
  "RiveryConnectionResponse",
  z.object({
    sessionId: z.string().check(z.regex(/^cs_[A-Za-z0-9_-]{24}$/)),
    startUrl: z.string(),
    zone: fields.zone,
    platform: z.enum(["rivery"]),
    expiresAt: isoTime,
  }),
  "A Rivery session was opened (`platform: \"rivery\"`): send the user's browser to `startUrl`, the worker's waiting page, before `expiresAt` (the end of Rivery's validity_duration). The connection id comes back on the return URL once Rivery has created it (docs/rivery.md).",
);
export type RiveryConnectionResponse = z.infer<typeof RiveryConnectionResponse>;

const CreateConnectionAnswer = component(
  "CreateConnectionAnswer",
  z.union([CreateConnectionResponse, RiveryConnectionResponse]),
  '`CreateConnectionResponse` for Peaka, `RiveryConnectionResponse` for `platform: "rivery"`.',
);

/** What a handler may answer: readonly arrays, as the core hands them over. */
type Answer<T> = { readonly [K in keyof T]: T[K] extends (infer U)[] | undefined ? readonly U[] | undefined : T[K] };
export type CreateConnectionResponse = Answer<z.infer<typeof CreateConnectionResponse>>;

export const RegisterReturnResponse = component(
  "RegisterReturnResponse",
  z.object({
    sessionId: z.string(),
    connectionId: z.string(),
    startUrl: z.optional(z.string()),
    zone: fields.zone,
    expiresAt: isoTime,
    warnings: z.optional(z.array(Warning)),
  }),
  "The way back is remembered until `expiresAt`. Send the browser to `startUrl` when given (it then goes on to the consent URL).",
);
export type RegisterReturnResponse = Answer<z.infer<typeof RegisterReturnResponse>>;

component("CreateConnectionRequest", CreateConnectionRequest, "A connection to create in the platform.");
component(
  "RegisterReturnRequest",
  RegisterReturnRequest,
  "Where to send the user back for a connection created by the partner.",
);

const sessionIdParameter = z.string().check(z.regex(SESSION_ID));
components.add(sessionIdParameter, { description: "The id the start answered as `sessionId`." });

export const SessionResponse = component(
  "Session",
  z.object({
    sessionId: z.string(),
    connectionId: z.optional(z.string()),
    platform: z.enum(["peaka", "rivery"]),
    type: z.string(),
    zone: fields.zone,
    reference: z.optional(z.string()),
    status: z.enum(["pending", "succeeded", "failed", "expired"]),
    error: z.optional(z.string()),
    createdAt: isoTime,
    completedAt: z.optional(isoTime),
  }),
  "A connect session: one start and its outcome. `status` is `pending` until the flow ends; a pending session past its deadline reads as `expired`. `error` is a failure code (or the provider's own error for a denial).",
);
export type SessionResponse = Answer<z.infer<typeof SessionResponse>>;

const connectionIdParameter = z.string().check(z.regex(CONNECTION_ID));
components.add(connectionIdParameter, { description: `The platform's connection id: ${CONNECTION_ID_RULE}.` });

export interface ApiRoute {
  readonly method: "get" | "post" | "put" | "patch" | "delete";
  /** OpenAPI form (`{name}`); the app registers it as `:name`. */
  readonly path: string;
  readonly operationId: string;
  readonly summary: string;
  readonly description?: string;
  /** Whether the route needs `Authorization: Bearer <ADMIN_TOKEN>` (and counts against API_RATE_LIMITER). */
  readonly auth: boolean;
  readonly pathParameters?: Readonly<Record<string, z.ZodMiniType>>;
  /** A JSON body, read by body.ts (adds 400, 413 and 415). */
  readonly body?: z.ZodMiniType;
  /** Success answers: a JSON schema, or a ready JSON Schema for what zod does not describe. */
  readonly responses: Readonly<Record<number, { description: string; schema?: z.ZodMiniType; json?: object }>>;
  /** Failures the handler itself can answer with; those of the guard and the body reader are added. */
  readonly errors: readonly FailureCode[];
}

/** Failures of the bearer guard (auth.ts) and the worker around it. */
export const AUTH_ERRORS: readonly FailureCode[] = [
  "unauthorized",
  "misdirected_request",
  "rate_limited",
  "api_disabled",
  "config_invalid",
];
export const BODY_ERRORS: readonly FailureCode[] = ["invalid_request", "payload_too_large", "unsupported_media_type"];
const PLATFORM_ERRORS: readonly FailureCode[] = [
  "peaka_rejected",
  "peaka_unavailable",
  "rivery_rejected",
  "rivery_unavailable",
  "storage_unavailable",
];

/** The API, one entry per route. Adding a route: one entry here, then `npm run openapi`. */
export const API_ROUTES: readonly ApiRoute[] = [
  {
    method: "post",
    path: "/api/v1/connections",
    operationId: "createConnection",
    summary: "Create a connection and get the URL to send the user to",
    description:
      "Creates the connection in the platform with this worker's callback, remembers where the user started, and answers the one-use `startUrl` that binds the flow to the user's browser. The user comes back to `returnUrl` with the outcome (docs/start.md).",
    auth: true,
    body: CreateConnectionRequest,
    responses: {
      201: {
        description: "Created (Peaka), or a Rivery session opened.",
        schema: CreateConnectionAnswer,
      },
    },
    errors: ["return_url_not_allowed", ...PLATFORM_ERRORS],
  },
  {
    method: "put",
    path: "/api/v1/connections/{connectionId}/return",
    operationId: "registerReturn",
    summary: "Remember the way back for a connection the partner created in the platform itself",
    auth: true,
    pathParameters: { connectionId: connectionIdParameter },
    body: RegisterReturnRequest,
    responses: { 200: { description: "Registered.", schema: RegisterReturnResponse } },
    errors: ["return_url_not_allowed", "storage_unavailable"],
  },
  {
    method: "get",
    path: "/api/v1/sessions/{sessionId}",
    operationId: "getSession",
    summary: "A connect session's status",
    description:
      "Kept SESSION_TTL_SECONDS after its last change. The backend's way to learn an outcome when the browser never came back (docs/start.md#connect-sessions).",
    auth: true,
    pathParameters: { sessionId: sessionIdParameter },
    responses: { 200: { description: "The session.", schema: SessionResponse } },
    errors: ["session_not_found", "storage_unavailable"],
  },
  {
    method: "get",
    path: "/api/v1/openapi.json",
    operationId: "getOpenApiDocument",
    summary: "This document",
    description: "OpenAPI 3.1, generated from the worker's own request schemas. No authentication.",
    auth: false,
    responses: {
      200: { description: "The OpenAPI document.", json: { type: "object" } },
    },
    errors: [],
  },
];

type JsonSchema = Record<string, unknown>;

const SCHEMA_REF = "#/components/schemas/";

function jsonSchema(schema: z.ZodMiniType): JsonSchema {
  const id = components.get(schema)?.id;
  if (id) return { $ref: SCHEMA_REF + id };
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { io: "input", metadata: components }) as JsonSchema;
  return rest;
}

/** The OpenAPI 3.1 document (`npm run openapi` writes it to public/api/v1/openapi.json). */
export function openApiDocument(version: string): JsonSchema {
  const { schemas } = z.toJSONSchema(components, {
    io: "input",
    metadata: components,
    uri: (id) => SCHEMA_REF + id,
  });
  for (const schema of Object.values(schemas)) {
    delete schema.$schema;
    delete schema.$id;
  }
  const error = { content: { "application/json": { schema: { $ref: `${SCHEMA_REF}Error` } } } };
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of API_ROUTES) {
    const codes = [...(route.auth ? AUTH_ERRORS : []), ...(route.body ? BODY_ERRORS : []), ...route.errors];
    const responses: Record<string, unknown> = {};
    for (const [status, answer] of Object.entries(route.responses)) {
      const schema = answer.schema ? jsonSchema(answer.schema) : answer.json;
      responses[status] = {
        description: answer.description,
        ...(schema ? { content: { "application/json": { schema } } } : {}),
      };
    }
    const byStatus = new Map<number, FailureCode[]>();
    for (const code of new Set(codes)) {
      const status = FAILURES[code].status;
      byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
    }
    for (const [status, list] of byStatus) {
      responses[status] = { description: `Failure: ${list.map((code) => `\`${code}\``).join(", ")}.`, ...error };
    }
    paths[route.path] ??= {};
    (paths[route.path] as Record<string, unknown>)[route.method] = {
      operationId: route.operationId,
      summary: route.summary,
      ...(route.description ? { description: route.description } : {}),
      ...(route.auth ? {} : { security: [] }),
      ...(route.pathParameters
        ? {
            parameters: Object.entries(route.pathParameters).map(([name, schema]) => ({
              name,
              in: "path",
              required: true,
              schema: jsonSchema(schema),
            })),
          }
        : {}),
      ...(route.body
        ? { requestBody: { required: true, content: { "application/json": { schema: jsonSchema(route.body) } } } }
        : {}),
      responses,
    };
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "peaka-connect-edge server API",
      version,
      description:
        "The partner backend's API of a peaka-connect-edge deployment. Generated from the worker's request schemas by `npm run openapi`; see docs/api.md.",
    },
    security: [{ bearer: [] }],
    paths,
    components: {
      schemas,
      securitySchemes: {
        bearer: {
          type: "http",
          scheme: "bearer",
          description: "The deployment's ADMIN_TOKEN secret. Without it set, the API answers 503 `api_disabled`.",
        },
      },
    },
  };
}
