'use strict';
// @sandwatch/hostkit: instrument a Node host that runs untrusted
// extensions so it emits the spans sandwatch's event model reads. See
// README.md for the API, the attribute table and the token pattern.
const { HostKit } = require('./kit');
const { Policy } = require('./policy');
const { TokenRegistry } = require('./tokens');
const { bindIsolate, isolatedVmRunner } = require('./isolated-vm');
const { startTracing } = require('./tracing');
const { ATTR, BLOCK, SPAN_INVOKE } = require('./attributes');

// createHostKit returns a HostKit (see kit.js for the options) with the
// isolated-vm helpers bound to it.
function createHostKit(options) {
  const kit = new HostKit(options);
  kit.bindIsolate = (ivm, context) => bindIsolate(kit, ivm, context);
  kit.isolatedVmRunner = (ivm, source, opts) => isolatedVmRunner(kit, ivm, source, opts);
  return kit;
}

module.exports = { createHostKit, HostKit, Policy, TokenRegistry, startTracing, ATTR, BLOCK, SPAN_INVOKE };
