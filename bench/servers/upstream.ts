/**
 * A minimal Peaka partner API for the benchmark: `POST /connections/{projectId}/oauth2`
 * (the exchange) and `POST /connections/{projectId}` (create, for start) answer
 * after a fixed delay, so the exchange's added latency can be read against a
 * known upstream time. It checks nothing: the exchange always answers with
 * the same connection id, create with a fresh id and a consent URL carrying
 * a fresh `state`. It counts the requests and TCP connections it gets: GET /__bench/stats → {"requests": n, "connections": n}.
 */
import { createServer } from "node:http";
import { announce, arg } from "./listen";

const delayMs = Number(arg("delay", "20"));
const connectionId = arg("connection", "conn_bench");
const base = arg("base", "/api/v1");
let requests = 0;
let connections = 0;
let created = 0;

const server = createServer((req, res) => {
  const path = (req.url ?? "/").split("?")[0] ?? "/";
  if (path === "/__bench/stats") {
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ requests, connections }));
    return;
  }
  if (req.method !== "POST" || !path.startsWith(`${base}/connections/`)) {
    res.writeHead(404).end();
    return;
  }
  requests++;
  // The body is read (as Peaka would) before the delay starts.
  req.resume();
  req.on("end", () => {
    setTimeout(() => {
      const consent = new URL("https://accounts.example.com/o/oauth2/auth?client_id=bench");
      const exchange = path.endsWith("/oauth2");
      if (!exchange) consent.searchParams.set("state", `bench-state-${++created}`);
      const body = JSON.stringify({
        id: exchange ? connectionId : `conn_start_${created}`,
        name: "benchConnection",
        type: "google_analytics",
        ...(exchange ? {} : { url: consent.href }),
      });
      res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) }).end(body);
    }, delayMs);
  });
});

server.on("connection", () => {
  connections++;
});

announce(server, Number(arg("port", "0")));
