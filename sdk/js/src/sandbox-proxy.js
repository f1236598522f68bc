'use strict';
// The sandbox-side proxy, evaluated inside the isolate. It takes the bridge
// Reference the host set on the global, removes it from the global, and
// exposes only `sandwatch.connect(token)`: an object whose readFile, fetch
// and query send the token back with each request. Errors come back as
// data and are rebuilt with their code. The sandbox never sees the
// OpenTelemetry API, a span or a trace id: only the opaque token.
module.exports = `(() => {
  const bridge = globalThis.__sandwatch_bridge;
  delete globalThis.__sandwatch_bridge;
  const call = async (token, op, args) => {
    const out = JSON.parse(await bridge.apply(undefined, [token, op, JSON.stringify(args)],
      { arguments: { copy: true }, result: { promise: true, copy: true } }));
    if (out.ok) return out.value;
    const err = new Error(out.error.message);
    err.code = out.error.code;
    throw err;
  };
  const connect = (token) => Object.freeze({
    readFile: (path) => call(token, 'readFile', [path]),
    fetch: (url, init) => call(token, 'fetch', [url, init || {}]),
    query: (sql, params) => call(token, 'query', [sql, params || []]),
  });
  Object.defineProperty(globalThis, 'sandwatch', { value: Object.freeze({ connect }), enumerable: false });
})();`;
