/**
 * Hosts where plain http is accepted: a developer's machine, the local Peaka
 * stand-in and the test pool. Everywhere else every URL the worker stores,
 * calls or redirects to must be https.
 */
export const LOOPBACK_HOSTS: ReadonlySet<string> = new Set(["localhost", "127.0.0.1"]);

/** https, or http on a loopback host: the one scheme rule for every URL the worker accepts. */
export function hasAllowedScheme(url: URL): boolean {
  return url.protocol === "https:" || (url.protocol === "http:" && LOOPBACK_HOSTS.has(url.hostname));
}

/** `text` as a URL when it parses, has an allowed scheme and carries no credentials. */
export function safeUrl(text: string): URL | undefined {
  const url = URL.canParse(text) ? new URL(text) : undefined;
  return url && hasAllowedScheme(url) && !url.username && !url.password ? url : undefined;
}
