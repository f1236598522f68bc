'use strict';
const http = require('node:http');
const { BasicTracerProvider, SimpleSpanProcessor, InMemorySpanExporter } = require('@opentelemetry/sdk-trace-base');
const ivm = require('isolated-vm');
const { createHostKit } = require('../src');

// newKit returns a kit whose spans land in memory.
function newKit(options = {}) {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const kit = createHostKit({ ...options, tracer: provider.getTracer('test') });
  return { kit, spans: () => exporter.getFinishedSpans(), ivm };
}

function eaccesFs(real) {
  return {
    async readFile(p, enc) {
      if (p.endsWith('/forbidden')) throw Object.assign(new Error(`EACCES: permission denied, open '${p}'`), { code: 'EACCES', errno: -13 });
      return real.readFile(p, enc);
    },
  };
}

// server starts a loopback HTTP server; handler(req, res).
async function server(handler) {
  const s = http.createServer(handler);
  await new Promise((r) => s.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${s.address().port}`, port: s.address().port, close: () => new Promise((r) => s.close(r)) };
}

module.exports = { newKit, eaccesFs, server };
