'use strict';
const api = require('@opentelemetry/api');

// startTracing sets up the OpenTelemetry JS SDK to export spans over
// OTLP/HTTP (protobuf) and registers it as the global tracer provider.
// endpoint defaults to OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, then
// OTEL_EXPORTER_OTLP_ENDPOINT + /v1/traces, then
// http://127.0.0.1:4318/v1/traces (sandwatch's default OTLP/HTTP
// listener). Call provider.shutdown() before exiting to flush.
function startTracing({ serviceName = 'sandbox-host', endpoint, resource = {}, exporter, scheduledDelayMillis = 1000 } = {}) {
  const { BasicTracerProvider, BatchSpanProcessor } = require('@opentelemetry/sdk-trace-base');
  const { resourceFromAttributes } = require('@opentelemetry/resources');
  let exp = exporter;
  if (!exp) {
    const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-proto');
    let url = endpoint || process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
    if (!url && process.env.OTEL_EXPORTER_OTLP_ENDPOINT) url = process.env.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/$/, '') + '/v1/traces';
    exp = new OTLPTraceExporter({ url: url || 'http://127.0.0.1:4318/v1/traces' });
  }
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': serviceName, ...resource }),
    spanProcessors: [new BatchSpanProcessor(exp, { scheduledDelayMillis })],
  });
  api.trace.setGlobalTracerProvider(provider);
  return provider;
}

module.exports = { startTracing };
