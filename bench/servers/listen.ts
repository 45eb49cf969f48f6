import type { Server } from "node:http";

/**
 * Child-process servers announce their port as one JSON line on stdout, the
 * only thing they ever print, so the parent can start them on port 0.
 */
export function announce(server: Server, port: number): void {
  server.listen(port, "127.0.0.1", () => {
    const address = server.address();
    if (address && typeof address === "object") process.stdout.write(`${JSON.stringify({ port: address.port })}\n`);
  });
  process.once("SIGTERM", () => server.close(() => process.exit(0)));
}

/** `--name value` from argv, else the fallback. */
export function arg(name: string, fallback: string): string {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? (process.argv[index + 1] ?? fallback) : fallback;
}
