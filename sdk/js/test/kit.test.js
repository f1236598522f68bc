'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fsp = require('node:fs/promises');
const os = require('node:os');
const path = require('node:path');
const { SpanStatusCode } = require('@opentelemetry/api');
const { newKit, eaccesFs, server } = require('./helpers');
const { tableOf, operationOf } = require('../src/kit');

const EXTENSION = `
async function main(host, input) {
  const out = {};
  out.notes = await host.readFile(input.notes);
  try { await host.readFile(input.forbidden); } catch (e) { out.refused = e.code; }
  const res = await host.fetch(input.url + '/forecast?city=Paris', { method: 'GET' });
  out.status = res.status; out.body = res.body;
  out.rows = await host.query('SELECT city, temp FROM forecasts WHERE day = ?', ['2026-11-23']);
  out.sees = { otel: typeof opentelemetry, bridge: typeof __sandwatch_bridge, require: typeof require, process: typeof process };
  return out;
}`;

test('an isolated-vm extension gets one span per operation, parented through the token', async (t) => {
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'hostkit-'));
  t.after(() => fsp.rm(dir, { recursive: true, force: true }));
  await fsp.writeFile(path.join(dir, 'notes.json'), '{"n":1}');
  const srv = await server((req, res) => res.end('sunny'));
  t.after(srv.close);
  const db = { system: 'sqlite', query: async (sql, params) => [{ city: 'Paris', temp: 12, day: params[0] }] };
  const { kit, spans, ivm } = newKit({ fs: eaccesFs(fsp), db });
  let callSeen;
  const run = kit.instrument((call, input) => { callSeen = call; return kit.isolatedVmRunner(ivm, EXTENSION)(call, input); }, { extensionId: 'weather-sync' });
  const out = await run({ notes: path.join(dir, 'notes.json'), forbidden: path.join(dir, 'forbidden'), url: srv.url });

  assert.equal(out.notes, '{"n":1}');
  assert.equal(out.refused, 'EACCES');
  assert.equal(out.status, 200);
  assert.equal(out.body, 'sunny');
  assert.deepEqual(out.rows, [{ city: 'Paris', temp: 12, day: '2026-11-23' }]);
  assert.deepEqual(out.sees, { otel: 'undefined', bridge: 'undefined', require: 'undefined', process: 'undefined' });
  assert.match(callSeen.token, /^[0-9a-f]{32}$/);
  assert.equal(kit.tokens.size, 0, 'the token is revoked when the invocation ends');

  const all = spans();
  assert.equal(all.length, 5);
  const root = all.find((s) => s.name === 'extension.invoke');
  assert.ok(root);
  assert.equal(root.attributes['extension.id'], 'weather-sync');
  assert.equal(root.spanContext().traceId, callSeen.traceId);
  for (const s of all.filter((x) => x !== root)) {
    assert.equal(s.spanContext().traceId, root.spanContext().traceId, s.name);
    assert.equal(s.parentSpanContext.spanId, root.spanContext().spanId, s.name);
    assert.equal(s.attributes['extension.id'], 'weather-sync');
  }
  const reads = all.filter((s) => s.attributes['block.type'] === 'FileReadBlock');
  assert.equal(reads.length, 2);
  const [ok, refused] = reads[0].attributes['fs.path'].endsWith('notes.json') ? reads : reads.reverse();
  assert.equal(ok.attributes['fs.operation'], 'read');
  assert.equal(ok.status.code, SpanStatusCode.UNSET);
  assert.equal(refused.attributes['fs.error'], 'EACCES');
  assert.equal(refused.attributes['error.type'], 'EACCES');
  assert.equal(refused.status.code, SpanStatusCode.ERROR);
  assert.equal(refused.events[0].name, 'exception');
  assert.equal(refused.events[0].attributes['exception.type'], 'EACCES');

  const httpSpan = all.find((s) => s.attributes['block.type'] === 'HttpRequestBlock');
  assert.equal(httpSpan.name, 'extension.weather-sync.HttpRequestBlock');
  assert.equal(httpSpan.attributes['http.method'], 'GET');
  assert.equal(httpSpan.attributes['http.url'], srv.url + '/forecast?city=Paris');
  assert.equal(httpSpan.attributes['http.status_code'], 200);

  const sql = all.find((s) => s.attributes['block.type'] === 'SqlQueryBlock');
  assert.equal(sql.attributes['sql.query'], 'SELECT city, temp FROM forecasts WHERE day = ?');
  assert.equal(sql.attributes['db.table'], 'forecasts');
  assert.equal(sql.attributes['sql.operation'], 'SELECT');
  assert.equal(sql.attributes['db.system'], 'sqlite');
});

test('a token is opaque, unforgeable and dies with its invocation', async () => {
  const { kit, spans } = newKit();
  await assert.rejects(kit.readFile('0'.repeat(32), '/etc/hostname'), { code: 'EBADTOKEN' });
  let kept;
  await kit.instrument(async (call) => { kept = call.token; }, { extensionId: 'x' })();
  await assert.rejects(kit.readFile(kept, '/etc/hostname'), { code: 'EBADTOKEN' });
  assert.equal(spans().length, 1, 'a rejected token makes no span');
  const res = await kit.dispatch(kept, 'readFile', ['/etc/hostname']);
  assert.deepEqual(res, { ok: false, error: { code: 'EBADTOKEN', message: 'unknown or expired invocation token' } });
});

test('policy refusals are denials, not errors', async (t) => {
  const srv = await server((req, res) => {
    if (req.url === '/bounce') { res.writeHead(302, { location: 'http://localhost:' + srv.port + '/secret' }); return res.end(); }
    if (req.url === '/secret') secretHits++;
    res.end('ok');
  });
  let secretHits = 0;
  t.after(srv.close);
  const { kit, spans } = newKit({ policy: { paths: ['/workspace'], hosts: ['127.0.0.1'] } });
  await kit.instrument(async ({ token }) => {
    await assert.rejects(kit.readFile(token, '/workspace/../etc/shadow'), { code: 'EDENIED' });
    await assert.rejects(kit.fetch(token, 'http://localhost:' + srv.port + '/secret'), { code: 'EDENIED' });
    await assert.rejects(kit.fetch(token, srv.url + '/bounce'), { code: 'EDENIED' });
    assert.equal((await kit.fetch(token, srv.url + '/fine')).status, 200);
  }, { extensionId: 'x' })();
  assert.equal(secretHits, 0);
  const denied = spans().filter((s) => s.attributes['capability.decision'] === 'denied');
  assert.deepEqual(denied.map((s) => s.attributes['capability.name']).sort(), ['fetch', 'fetch', 'fs.read']);
  for (const s of denied) {
    assert.equal(s.status.code, SpanStatusCode.ERROR);
    assert.equal(s.attributes['error.type'], undefined, 'a denial is not an error');
  }
  assert.equal(denied.find((s) => s.attributes['fs.path']).attributes['fs.path'], '/workspace/../etc/shadow');
});

test('HTTP failures carry their code or status', async (t) => {
  const srv = await server((req, res) => { res.statusCode = 403; res.end('no'); });
  t.after(srv.close);
  const closed = await server(() => {});
  await closed.close();
  const { kit, spans } = newKit();
  await kit.instrument(async ({ token }) => {
    assert.equal((await kit.fetch(token, srv.url + '/admin')).status, 403);
    await assert.rejects(kit.fetch(token, closed.url + '/'), { code: 'ECONNREFUSED' });
    await assert.rejects(kit.query(token, 'SELECT 1'), { code: 'ENODB' });
  }, { extensionId: 'x' })();
  const byURL = Object.fromEntries(spans().filter((s) => s.attributes['http.url']).map((s) => [s.attributes['http.url'], s]));
  const forbidden = byURL[srv.url + '/admin'];
  assert.equal(forbidden.attributes['http.status_code'], 403);
  assert.equal(forbidden.status.code, SpanStatusCode.ERROR);
  const refused = byURL[closed.url + '/'];
  assert.equal(refused.attributes['error.code'], 'ECONNREFUSED');
  assert.equal(refused.status.code, SpanStatusCode.ERROR);
});

test('a failing extension fails its invocation span', async () => {
  const { kit, spans, ivm } = newKit();
  const run = kit.instrument(kit.isolatedVmRunner(ivm, 'async function main() { throw new TypeError("boom") }'), { extensionId: 'x' });
  await assert.rejects(run({}), /boom/);
  const [root] = spans();
  assert.equal(root.status.code, SpanStatusCode.ERROR);
  assert.equal(kit.tokens.size, 0);
});

test('SQL helpers', () => {
  assert.equal(tableOf('SELECT a FROM "forecasts" WHERE x'), 'forecasts');
  assert.equal(tableOf('insert into logs (a) values (1)'), 'logs');
  assert.equal(tableOf('UPDATE main.users SET a=1'), 'main.users');
  assert.equal(tableOf('SELECT 1'), '');
  assert.equal(operationOf('  select 1'), 'SELECT');
});

test('options are validated', () => {
  const { createHostKit } = require('../src');
  assert.throws(() => createHostKit({ db: {} }), /db: needs query/);
  assert.throws(() => createHostKit({ policy: { paths: ['relative'] } }), /policy.paths\[0\]/);
  assert.throws(() => createHostKit({ policy: { hosts: ['http://x'] } }), /policy.hosts\[0\]/);
  assert.throws(() => createHostKit().instrument(() => {}, {}), /extensionId is required/);
});

test('an invocation is the root of its trace, linked to the caller\'s span', async (t) => {
  const api = require('@opentelemetry/api');
  // A minimal synchronous context manager: enough for context.with around
  // the synchronous start of an async call.
  let active = api.ROOT_CONTEXT;
  api.context.setGlobalContextManager({
    active: () => active,
    with(ctx, fn, thisArg, ...args) {
      const prev = active;
      active = ctx;
      try { return fn.call(thisArg, ...args); } finally { active = prev; }
    },
    bind: (ctx, target) => target,
    enable() { return this; },
    disable() { return this; },
  });
  t.after(() => api.context.disable());
  const { kit, spans } = newKit();
  const caller = api.trace.wrapSpanContext({ traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), traceFlags: 1 });
  const ctx = api.trace.setSpan(api.ROOT_CONTEXT, caller);
  await api.context.with(ctx, kit.instrument(async () => {}, { extensionId: 'x' }));
  await api.context.with(ctx, kit.instrument(async () => {}, { extensionId: 'x', childOfActive: true }));
  const [rooted, child] = spans();
  assert.equal(rooted.parentSpanContext, undefined);
  assert.notEqual(rooted.spanContext().traceId, 'a'.repeat(32));
  assert.equal(rooted.links[0].context.spanId, 'b'.repeat(16));
  assert.equal(child.parentSpanContext.spanId, 'b'.repeat(16));
  assert.equal(child.spanContext().traceId, 'a'.repeat(32));
});
