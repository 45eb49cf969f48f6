import { HttpResponse, http } from "msw";
import { setupServer } from "msw/node";

/** Peaka's partner API at the network boundary. Unmatched requests fail the test. */
export const peaka = setupServer();

export const US_API = "https://partner.peaka.studio/api/v1";
export const EU_API = "https://partner.eu.peaka.studio/api/v1";
export const PROJECT_ID = "proj_test";
export const API_KEY = "test-partner-key-5f2c9a";

export interface RecordedRequest {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: string;
}

/** Answers `POST {api}/connections/{projectId}/oauth2` and records every request it gets. */
export function mockExchange(
  respond: (body: unknown) => Response | Promise<Response>,
  api = US_API,
  projectId = PROJECT_ID,
): RecordedRequest[] {
  const seen: RecordedRequest[] = [];
  peaka.use(
    http.post(`${api}/connections/${projectId}/oauth2`, async ({ request }) => {
      const body = await request.text();
      seen.push({ url: request.url, method: request.method, headers: Object.fromEntries(request.headers), body });
      let json: unknown;
      try {
        json = JSON.parse(body);
      } catch {
        json = undefined;
      }
      return respond(json);
    }),
  );
  return seen;
}

export const connectionJson = (id: string) =>
  HttpResponse.json({ id, name: "exampleOauth2Connection", type: "google_analytics" });
