import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { kvOverHttp } from "../../bench/lib/kv-adapters";
import { type RunningWorker, startWorker } from "../../bench/lib/workerd";
import { Store } from "../../src/storage/store";

/**
 * Faults that only a real network shows, run against the built worker in
 * workerd with a loopback upstream that misbehaves at the socket level: a
 * body that stops halfway (the timeout must cover reading it), an upstream
 * that never answers, and a connection reset mid-answer. The in-runtime test
 * suite mocks fetch, which cannot stall a body or cut a socket.
 */

export interface NetworkFaultResult {
  name: string;
  ok: boolean;
  detail: string;
  ms: number;
}

type Behaviour = (req: IncomingMessage, res: ServerResponse) => void;

const BEHAVIOURS: Record<string, Behaviour> = {
  "body stops halfway": (_req, res) => {
    res.writeHead(200, { "content-type": "application/json" });
    res.write('{"id":"conn_');
  },
  "no answer at all": () => {},
  "connection reset mid-answer": (req, res) => {
    res.writeHead(200, { "content-type": "application/json" });
    res.write('{"id":');
    setTimeout(() => req.socket.destroy(), 20);
  },
};

const TIMEOUT_MS = 300;
const RETURN_URL = "https://app.example.com/settings?tab=data";

export async function networkFaults(bundleDir: string, vars: Record<string, string>): Promise<NetworkFaultResult[]> {
  let behaviour: Behaviour = () => {};
  const upstream = createServer((req, res) => {
    req.resume();
    req.on("end", () => behaviour(req, res));
  });
  await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
  const port = (upstream.address() as { port: number }).port;
  let worker: RunningWorker | undefined;
  try {
    worker = await startWorker({
      bundleDir,
      vars: {
        ...vars,
        CALLBACK_MODE: "exchange",
        PEAKA_TIMEOUT_MS: String(TIMEOUT_MS),
        PEAKA_US_API_URL: `http://127.0.0.1:${port}/api/v1`,
      },
    });
    const store = new Store(kvOverHttp(worker), 3600);
    const results: NetworkFaultResult[] = [];
    for (const [name, act] of Object.entries(BEHAVIOURS)) {
      behaviour = act;
      const connectionId = `conn_${randomBytes(6).toString("hex")}`;
      const state = randomBytes(16).toString("base64url");
      await store.putState(state, { connectionId, returnUrl: RETURN_URL, zone: "us" });
      const started = performance.now();
      const query = new URLSearchParams({ code: randomBytes(16).toString("base64url"), state });
      // The client's own deadline: a hang shows as a failed case, not a stuck run.
      const response = await fetch(`${worker.url}/oauth2/mycallback?${query}`, {
        redirect: "manual",
        signal: AbortSignal.timeout(TIMEOUT_MS + 5000),
      }).catch((error: Error) => error);
      const ms = performance.now() - started;
      const expected = `${RETURN_URL}&connectionId=${connectionId}&status=fail&error=peaka_unavailable`;
      if (response instanceof Error) {
        results.push({ name, ok: false, detail: `no answer: ${response.name}`, ms });
        continue;
      }
      const location = response.headers.get("location");
      const ok = response.status === 303 && location === expected;
      results.push({
        name,
        ok,
        detail: ok ? "303 back with error=peaka_unavailable" : `${response.status} ${location}`,
        ms,
      });
    }
    return results;
  } finally {
    await worker?.stop();
    upstream.closeAllConnections();
    upstream.close();
  }
}
