/** Headers every response carries, redirects and errors alike. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  // Redirects carry one-time codes and per-user destinations: never cache them.
  "Cache-Control": "no-store",
  // The consent round trip must not leak the callback URL (with its code) to the next site.
  "Referrer-Policy": "no-referrer",
  "X-Content-Type-Options": "nosniff",
  "Strict-Transport-Security": "max-age=63072000; includeSubDomains",
};

/** For the built-in pages: nothing external, no scripts, no framing, no forms. */
export const PAGE_CSP =
  "default-src 'none'; style-src 'unsafe-inline'; img-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
