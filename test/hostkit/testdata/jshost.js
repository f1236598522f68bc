// A Node host instrumented with @sandwatch/hostkit, as the README's quick
// start has it: it runs testdata/weather-extension.js in a real
// isolated-vm isolate, with a stub database, and exports its spans over
// OTLP/HTTP. Environment: HOSTKIT_OTLP (traces URL), HOSTKIT_API (the
// HTTP server the extension calls), HOSTKIT_WORKSPACE (notes.json, and
// secret.txt that the OS refuses). Prints one JSON line: trace id and the
// extension's result.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { createRequire } = require('node:module');

const kitDir = path.resolve(__dirname, '../../../sdk/js');
const ivm = createRequire(path.join(kitDir, 'package.json'))('isolated-vm');
const { createHostKit, startTracing } = require(kitDir);

async function main() {
  const provider = startTracing({ serviceName: 'hostkit-e2e', endpoint: process.env.HOSTKIT_OTLP, resource: { 'sandbox.runtime': 'isolated-vm' } });
  const db = { system: 'sqlite', query: async (sql, params) => [{ city: params[0], temp: 12 }] };
  const kit = createHostKit({ db });
  const source = fs.readFileSync(path.join(__dirname, 'weather-extension.js'), 'utf8');
  let traceId;
  const run = kit.instrument((call, input) => {
    traceId = call.traceId;
    return kit.isolatedVmRunner(ivm, source)(call, input);
  }, { extensionId: 'weather-sync' });
  const result = await run({ workspace: process.env.HOSTKIT_WORKSPACE, api: process.env.HOSTKIT_API });
  process.stdout.write(JSON.stringify({ trace_id: traceId, result }) + '\n');
  await provider.shutdown(); // flushes; a failed export fails the host

}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
