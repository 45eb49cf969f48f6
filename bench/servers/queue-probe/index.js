// Sends one message and a batch of two through its QUEUE binding: a fixture
// for bench/lib/workerd-queue.test.ts, which checks that the benchmark's
// queue counting sees every message a worker sends.
export default {
  async fetch(_request, env) {
    await env.QUEUE.send({ n: 1 });
    await env.QUEUE.sendBatch([{ body: { n: 2 } }, { body: { n: 3 } }]);
    return new Response(null, { status: 204 });
  },
};
