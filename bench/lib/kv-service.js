// An in-memory KV namespace for workerd's `kvNamespace` binding. workerd has
// no storage of its own; its KV binding speaks HTTP to whatever service it is
// pointed at (GET/PUT/DELETE /<key>, the protocol Miniflare's KV also serves).
// Keeping it in memory, in the same workerd process, makes KV as cheap as it
// can be locally, so the benchmark measures the worker, not a disk.
//
// The same service is exposed on a loopback socket so the benchmark can seed
// records with the real protocol and read per-method operation counts:
//   GET  /__bench/stats  -> {"get":n,"put":n,"delete":n,"list":n,"keys":n,"queued":n}
//
// It also stands behind the worker's queue producer bindings: workerd turns
// `send` into POST /message and `sendBatch` into POST /batch to the bound
// service (KV never POSTs), so `queued` counts the messages sent.
//   POST /__bench/reset  -> zeroes the counts (keeps the data)

const store = new Map();
// What workerd's queue binding expects back from a send (as Miniflare's queue broker answers).
const QUEUE_SENT = { metadata: { metrics: { backlogCount: 0, backlogBytes: 0, oldestMessageTimestamp: 0 } } };
const counts = { get: 0, put: 0, delete: 0, list: 0, queued: 0 };

function keyOf(url) {
  const raw = url.pathname.slice(1);
  return url.searchParams.get("urlencoded")?.toLowerCase() === "true" ? decodeURIComponent(raw) : raw;
}

function live(entry) {
  return entry !== undefined && (entry.expiresAt === undefined || entry.expiresAt > Date.now());
}

function expiryOf(url) {
  const ttl = url.searchParams.get("expiration_ttl");
  if (ttl !== null) return Date.now() + Number(ttl) * 1000;
  const at = url.searchParams.get("expiration");
  return at === null ? undefined : Number(at) * 1000;
}

export default {
  async fetch(request) {
    const url = new URL(request.url);
    if (url.pathname === "/__bench/stats") return Response.json({ ...counts, keys: store.size });
    if (url.pathname === "/__bench/reset") {
      for (const name of Object.keys(counts)) counts[name] = 0;
      return new Response(null, { status: 204 });
    }
    if (url.pathname === "/" && request.method === "GET") {
      counts.list++;
      const keys = [...store].filter(([, entry]) => live(entry)).map(([name]) => ({ name }));
      return Response.json({ keys, list_complete: true, cacheStatus: null });
    }
    if (request.method === "POST" && url.pathname === "/message") {
      // Read to the end: workerd drops the connection on an unread body.
      await request.arrayBuffer();
      counts.queued++;
      return Response.json(QUEUE_SENT);
    }
    if (request.method === "POST" && url.pathname === "/batch") {
      const batch = await request.json();
      counts.queued += Array.isArray(batch.messages) ? batch.messages.length : 1;
      return Response.json(QUEUE_SENT);
    }
    const key = keyOf(url);
    switch (request.method) {
      case "GET": {
        counts.get++;
        const entry = store.get(key);
        if (!live(entry)) return new Response("Not Found", { status: 404 });
        return new Response(entry.value);
      }
      case "PUT": {
        counts.put++;
        store.set(key, { value: await request.text(), expiresAt: expiryOf(url) });
        return new Response(null);
      }
      case "DELETE": {
        counts.delete++;
        store.delete(key);
        return new Response(null);
      }
      default:
        return new Response("Method Not Allowed", { status: 405 });
    }
  },
};
