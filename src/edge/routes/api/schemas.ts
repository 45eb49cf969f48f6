import * as z from "zod/mini";
import * as fields from "../../../core/fields";

const object = { error: "must be a JSON object" };

/** `POST /api/v1/connections`. Callback fields are not accepted: the worker sets them. */
export const CreateConnectionRequest = z.strictObject(
  {
    type: fields.connectionType,
    name: fields.connectionName,
    returnUrl: fields.returnUrl,
    zone: z.optional(fields.zone),
    credential: z.optional(fields.credential),
    reference: z.optional(fields.reference),
    display: z.optional(fields.display),
    /** Omitted: Peaka. For Rivery, `type` is the datasource_id and `name` the connection_name. */
    platform: z.optional(fields.platform),
  },
  object,
);
export type CreateConnectionRequest = z.infer<typeof CreateConnectionRequest>;

/** `PUT /api/v1/connections/{connectionId}/return`. */
export const RegisterReturnRequest = z.strictObject(
  {
    returnUrl: fields.returnUrl,
    zone: z.optional(fields.zone),
    /** The connection's type, for the session (status API, webhooks); "unknown" when left out. */
    type: z.optional(fields.connectionType),
    reference: z.optional(fields.reference),
    display: z.optional(fields.display),
    /** Peaka's consent URL for this connection, if the caller has it: its `state` is then remembered too. */
    consentUrl: z.optional(
      z.string({ error: "must be a string" }).check(
        z.regex(/^[\s\S]{0,8192}$/, "must be at most 8192 characters"),
        z.refine((s) => URL.canParse(s), "must be an absolute URL"),
      ),
    ),
  },
  object,
);
export type RegisterReturnRequest = z.infer<typeof RegisterReturnRequest>;
