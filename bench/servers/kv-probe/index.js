// Measures what one KV read costs in the benchmark's workerd: the same
// request with and without a `get` on the binding; the CPU difference is the
// binding's client side plus the in-memory KV service answering it.
export default {
  async fetch(request, env) {
    if (new URL(request.url).searchParams.has("kv")) await env.CONNECTIONS.get("kv-probe");
    return new Response(null, { status: 204 });
  },
};
