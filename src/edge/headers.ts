/** Headers every response carries, redirects and errors alike. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  // Redirects carry one-time codes and per-user destinations: never cache them.
  "Cache-Control": "no-store",
  // The consent round trip must not leak the callback URL (with its code) to the next site.
  "Referrer-Policy": "no-referrer",
  "X-Content-Type-Options": "nosniff",
  "Strict-Transport-Security": "max-age=63072000; includeSubDomains",
};

/** What every page's CSP ends with: no base URL, forms, framing or images. */
export const CSP_TAIL = "img-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/**
 * For the error page: nothing but the stylesheet (/assets/page.css). 'self'
 * is safe for style and script: the worker's origin serves CSS and
 * JavaScript only from public/assets/, constant files, and every answer
 * carries nosniff, so no other answer of its (JSON, HTML with escaped user
 * text) can be loaded as a stylesheet or run as a script.
 */
export const PAGE_CSP = `default-src 'none'; style-src 'self'; ${CSP_TAIL}`;
