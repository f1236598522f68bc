'use strict';
const SANDBOX_PROXY = require('./sandbox-proxy');

// bindIsolate installs the bridge to kit's proxies in an isolated-vm
// context: afterwards code in the context can call
// sandwatch.connect(token) and nothing else of the host.
async function bindIsolate(kit, ivm, context) {
  const bridge = new ivm.Reference(async (token, op, argsJSON) => {
    let args;
    try {
      args = JSON.parse(argsJSON);
    } catch {
      return JSON.stringify({ ok: false, error: { code: 'EINVAL', message: 'arguments are not JSON' } });
    }
    return JSON.stringify(await kit.dispatch(token, op, args));
  });
  await context.global.set('__sandwatch_bridge', bridge);
  await context.eval(SANDBOX_PROXY);
}

// isolatedVmRunner returns a runner for kit.instrument that runs an
// extension in a fresh isolate per call. source is a script defining
// `async function main(host, input)`; main gets the connected host proxy
// (the token is passed into the isolate with the call and stays inside the
// proxy's closure) and a copy of input, and its resolved value is copied
// out.
function isolatedVmRunner(kit, ivm, source, { memoryLimitMB = 64, timeoutMs = 5000, filename = 'extension.js' } = {}) {
  if (!ivm || typeof ivm.Isolate !== 'function') throw new TypeError('isolatedVmRunner: pass require("isolated-vm")');
  if (typeof source !== 'string') throw new TypeError('isolatedVmRunner: source must be a string');
  return async (call, input) => {
    const isolate = new ivm.Isolate({ memoryLimit: memoryLimitMB });
    try {
      const context = await isolate.createContext();
      await bindIsolate(kit, ivm, context);
      const script = await isolate.compileScript(source, { filename });
      await script.run(context, { timeout: timeoutMs });
      return await context.evalClosure(
        'if (typeof main !== "function") throw new Error("the extension defines no main(host, input)");' +
        'return main(sandwatch.connect($0), $1);',
        [call.token, input === undefined ? null : input],
        { arguments: { copy: true }, result: { promise: true, copy: true }, timeout: timeoutMs });
    } finally {
      if (!isolate.isDisposed) isolate.dispose();
    }
  };
}

module.exports = { bindIsolate, isolatedVmRunner };
