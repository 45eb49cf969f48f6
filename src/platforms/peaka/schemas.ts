import * as z from "zod/mini";

/** Peaka's Connection object (OpenAPI `Connection`); the id becomes a KV key, so it is constrained. */
export const PeakaConnection = z.object({
  id: z.string().check(z.regex(/^[A-Za-z0-9_-]{1,128}$/)),
  name: z.optional(z.string()),
  type: z.optional(z.string()),
  url: z.optional(z.string()),
});
export type PeakaConnection = z.infer<typeof PeakaConnection>;
