import { Hono } from "hono/tiny";

/**
 * The framework's floor: the same Hono preset as the worker, one route, the
 * same 307. Between this and the bare handler is what Hono costs; between
 * this and the worker is what the worker's own work costs.
 */
export function honoFloor(
  callbackPath: string,
  callbackUrl: string,
): { fetch: (request: Request) => Response | Promise<Response> } {
  const app = new Hono();
  app.get(callbackPath, (c) => {
    const url = c.req.url;
    const query = url.indexOf("?");
    return new Response(null, {
      status: 307,
      headers: { Location: query < 0 ? callbackUrl : callbackUrl + url.slice(query) },
    });
  });
  return app;
}
