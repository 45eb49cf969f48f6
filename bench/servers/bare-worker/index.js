// The least a Worker can do for the relay: a 307 to Peaka's callback with the
// query string copied byte for byte. No routing, config, logging or headers:
// this is the ceiling the real worker is measured against.
export default {
  fetch(request, env) {
    const url = request.url;
    const query = url.indexOf("?");
    const location = query < 0 ? env.CALLBACK_URL : env.CALLBACK_URL + url.slice(query);
    return new Response(null, { status: 307, headers: { Location: location } });
  },
};
