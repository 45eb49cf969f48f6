// autocannon keeps writing on a connection that the server announced it would
// close, so every connection nginx closes during a run can count as an error
// and fail the bench. nginx must keep a benchmark's connections open.
import assert from "node:assert/strict";
import { Agent, get } from "node:http";
import { after, before, test } from "node:test";
import { findNginx, startNginx } from "./nginx";
import type { RunningServer } from "./node-server";

const binary = findNginx();
// nginx's default keepalive_requests: the count it closes a connection after.
const NGINX_DEFAULT_KEEPALIVE_REQUESTS = 1000;

let nginx: RunningServer | undefined;
before(async () => {
  if (binary) nginx = await startNginx(binary, "https://peaka.studio/oauth2/callback", "/oauth2/mycallback");
});
after(() => nginx?.stop());

test("nginx keeps one connection open past its default request limit", {
  skip: !binary && "nginx is not on PATH",
}, async () => {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    for (let i = 1; i <= NGINX_DEFAULT_KEEPALIVE_REQUESTS + 100; i++) {
      const connection = await new Promise<string | undefined>((resolve, reject) => {
        get(`${nginx?.url}/oauth2/mycallback?code=${i}`, { agent }, (res) => {
          res.resume();
          res.on("end", () => resolve(res.headers.connection));
        }).on("error", reject);
      });
      assert.notEqual(connection, "close", `nginx closed the connection after request ${i}`);
    }
  } finally {
    agent.destroy();
  }
});
