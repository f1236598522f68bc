#!/usr/bin/env node
// The MCP harness of test/mcp: it drives real MCP servers from npm over
// stdio with the real MCP client SDK, traced by @traceloop/instrumentation-mcp
// and exported as OTLP/HTTP by the OpenTelemetry JS SDK, and reports what
// each call returned. A test writes a JSON script and runs
//
//   node harness.js script.json
//
// The script (every field but calls optional):
//
//   {
//     "endpoint": "http://127.0.0.1:4318/v1/traces", // OTLP/HTTP traces URL
//     "dump": "/tmp/spans.json",   // also write every span as OTLP JSON
//     "content": true,             // Traceloop traceContent (captures input/output)
//     "service": "mcp-harness",    // the client's service.name
//     "meta": false,               // inject the active trace context into params._meta
//     "servers": {                 // name -> how to start it
//       "fs":  {"package": "filesystem", "args": ["/srv/root"]},
//       "all": {"package": "everything", "env": {"SECRET": "x"}},
//       "go":  {"command": "/path/to/goserver", "args": ["/srv/notes"]}
//     },
//     "calls": [
//       {"server": "fs", "tool": "read_text_file", "arguments": {"path": "/srv/root/a"}},
//       {"server": "all", "resource": "file:///etc/hosts"},
//       {"server": "fs", "list": "tools"},
//       {"server": "fs", "session": 2, "tool": "list_allowed_directories"}
//     ]
//   }
//
// One client session is opened per (server, session) pair when first used
// (session 0 unless given), and all are closed at the end, so each session
// is one `mcp.client.session` span with `initialize.mcp` and the calls
// under it. Stdout gets one JSON object: {"results": [...]} in call order,
// each {server, tool|resource|list, is_error, error, text}. A tool error
// (isError) or a protocol error is a result, not a harness failure; the
// harness exits non-zero only when it cannot run the script.
"use strict";

const fs = require("node:fs");
const path = require("node:path");
const { McpInstrumentation } = require("@traceloop/instrumentation-mcp");
const { NodeTracerProvider } = require("@opentelemetry/sdk-trace-node");
const { BatchSpanProcessor, InMemorySpanExporter, SimpleSpanProcessor } = require("@opentelemetry/sdk-trace-base");
const { resourceFromAttributes } = require("@opentelemetry/resources");
const { OTLPTraceExporter } = require("@opentelemetry/exporter-trace-otlp-http");
const { JsonTraceSerializer } = require("@opentelemetry/otlp-transformer");

const SERVER_ENTRY = {
  filesystem: require.resolve("@modelcontextprotocol/server-filesystem/dist/index.js"),
  everything: require.resolve("@modelcontextprotocol/server-everything/dist/index.js"),
};

function readScript(file) {
  const script = JSON.parse(fs.readFileSync(file, "utf8"));
  if (!Array.isArray(script.calls)) throw new Error("script: calls must be an array");
  script.servers = script.servers || {};
  for (const [i, c] of script.calls.entries()) {
    if (!script.servers[c.server]) throw new Error(`script: calls[${i}].server ${JSON.stringify(c.server)} is not in servers`);
    if (!c.tool && !c.resource && !c.list) throw new Error(`script: calls[${i}] needs tool, resource or list`);
  }
  for (const [name, s] of Object.entries(script.servers)) {
    if (!s.command && !SERVER_ENTRY[s.package]) throw new Error(`script: servers.${name}: give command, or package one of ${Object.keys(SERVER_ENTRY).join(", ")}`);
  }
  return script;
}

function setupTracing(script) {
  const processors = [];
  if (script.endpoint) {
    processors.push(new BatchSpanProcessor(new OTLPTraceExporter({ url: script.endpoint }), { scheduledDelayMillis: 200 }));
  }
  let memory = null;
  if (script.dump) {
    memory = new InMemorySpanExporter();
    processors.push(new SimpleSpanProcessor(memory));
  }
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ "service.name": script.service || "mcp-harness" }),
    spanProcessors: processors,
  });
  provider.register();
  const instrumentation = new McpInstrumentation({ traceContent: script.content !== false });
  instrumentation.setTracerProvider(provider);
  // The SDK is loaded after the instrumentation is set up, and patched
  // explicitly: the hook on require works for CJS, manuallyInstrument for both.
  const client = require("@modelcontextprotocol/sdk/client/index.js");
  instrumentation.manuallyInstrument(client);
  instrumentation.enable();
  return { provider, memory, client };
}

// injectMeta puts the active span's W3C trace context into params._meta of
// every request the client sends (SEP-414; what
// @arizeai/openinference-instrumentation-mcp does), so a server that
// extracts it parents its span on the client's tool span.
function injectMeta(Transport) {
  const api = require("@opentelemetry/api");
  const { W3CTraceContextPropagator } = require("@opentelemetry/core");
  const prop = new W3CTraceContextPropagator();
  const send = Transport.prototype.send;
  Transport.prototype.send = function (message, ...rest) {
    if (message && message.method && message.id !== undefined) {
      const carrier = {};
      prop.inject(api.context.active(), carrier, api.defaultTextMapSetter);
      if (carrier.traceparent) {
        message.params = message.params || {};
        message.params._meta = { ...(message.params._meta || {}), ...carrier };
      }
    }
    return send.call(this, message, ...rest);
  };
}

async function main() {
  const file = process.argv[2];
  if (!file) throw new Error("usage: node harness.js script.json");
  const script = readScript(file);
  const { provider, memory, client } = setupTracing(script);
  const { StdioClientTransport } = require("@modelcontextprotocol/sdk/client/stdio.js");
  if (script.meta) injectMeta(StdioClientTransport);

  const sessions = new Map();
  async function session(call) {
    const key = `${call.server}#${call.session || 0}`;
    if (!sessions.has(key)) {
      const s = script.servers[call.server];
      const transport = new StdioClientTransport({
        command: s.command || process.execPath,
        args: s.command ? (s.args || []) : [SERVER_ENTRY[s.package], ...(s.args || [])],
        env: { PATH: process.env.PATH, HOME: process.env.HOME || "/tmp", ...(s.env || {}) },
        stderr: "ignore",
      });
      const c = new client.Client({ name: "sandwatch-mcp-harness", version: "1.0.0" });
      await c.connect(transport);
      sessions.set(key, c);
    }
    return sessions.get(key);
  }

  const results = [];
  for (const call of script.calls) {
    const c = await session(call);
    const r = { server: call.server };
    try {
      if (call.tool) {
        r.tool = call.tool;
        const out = await c.callTool({ name: call.tool, arguments: call.arguments || {} });
        r.is_error = Boolean(out.isError);
        r.text = (out.content || []).map((x) => x.text || "").join("\n");
      } else if (call.resource) {
        r.resource = call.resource;
        const out = await c.readResource({ uri: call.resource });
        r.is_error = false;
        r.text = (out.contents || []).map((x) => x.text || "").join("\n");
      } else {
        r.list = call.list;
        const out = await c.listTools();
        r.is_error = false;
        r.text = out.tools.map((t) => t.name).join(",");
      }
    } catch (err) {
      r.is_error = true;
      r.error = String(err && err.message ? err.message : err);
    }
    results.push(r);
  }
  for (const c of sessions.values()) await c.close();
  await provider.forceFlush();
  if (memory) {
    const body = JsonTraceSerializer.serializeRequest(memory.getFinishedSpans());
    fs.mkdirSync(path.dirname(path.resolve(script.dump)), { recursive: true });
    fs.writeFileSync(script.dump, Buffer.from(body));
  }
  await provider.shutdown();
  process.stdout.write(JSON.stringify({ results }) + "\n");
}

main().catch((err) => {
  process.stderr.write(`harness: ${err && err.stack ? err.stack : err}\n`);
  process.exit(1);
});
