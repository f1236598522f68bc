'use strict';
const api = require('@opentelemetry/api');
const fsp = require('node:fs/promises');
const { ATTR, BLOCK, SPAN_INVOKE } = require('./attributes');
const { TokenRegistry } = require('./tokens');
const { Policy } = require('./policy');

const SCOPE = '@sandwatch/hostkit';
const VERSION = require('../package.json').version;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const MAX_REDIRECTS = 5;

// An error the sandbox receives; code survives the isolation boundary.
function codeError(code, message) {
  const e = new Error(message);
  e.code = code;
  return e;
}

// errorCode names a failure with the errno vocabulary the event model
// knows where one applies (EACCES, ENOENT, ECONNREFUSED, ETIMEDOUT...).
function errorCode(err) {
  if (!err) return 'Error';
  if (err.cause && typeof err.cause.code === 'string') return err.cause.code; // fetch failed: cause is the socket error
  if (typeof err.code === 'string' && err.code) return err.code;
  if (err.name === 'TimeoutError') return 'ETIMEDOUT';
  return err.name || 'Error';
}

// recordError marks span failed the way the event model reads it: status
// ERROR, the code under codeKey and error.type, and an exception event.
function recordError(span, err, codeKey) {
  const code = errorCode(err);
  const message = (err && err.message) || String(err);
  span.setAttribute(codeKey, code);
  span.setAttribute(ATTR.ERROR_TYPE, code);
  span.recordException({ name: code, code, message });
  span.setStatus({ code: api.SpanStatusCode.ERROR, message });
}

// tableOf extracts the first table a simple SQL statement names.
function tableOf(sql) {
  const m = /\b(?:from|into|update|join|table)\s+([`"[]?)([\w.$]+)\1?/i.exec(sql);
  return m ? m[2].replace(/[`"\]]/g, '') : '';
}

function operationOf(sql) {
  const m = /^\s*(\w+)/.exec(sql);
  return m ? m[1].toUpperCase() : '';
}

async function readBounded(res, max) {
  const reader = res.body && res.body.getReader();
  if (!reader) return '';
  const chunks = [];
  let n = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    const room = max - n;
    if (value.length >= room) {
      chunks.push(value.subarray(0, room));
      n = max;
      await reader.cancel();
      break;
    }
    chunks.push(value);
    n += value.length;
  }
  return Buffer.concat(chunks).toString('utf8');
}

// HostKit holds what a host needs to instrument its extension runner: the
// token registry, the host-side proxies (fs, fetch, SQL) that create the
// child spans, and the policy. One per host process is typical.
class HostKit {
  // options:
  //   fs       { readFile(path, encoding) } — default node:fs/promises
  //   fetch    a WHATWG fetch — default globalThis.fetch
  //   db       { query(sql, params) -> rows, system?: 'sqlite' } — no default
  //   policy   { paths?: [...], hosts?: [...] } — see Policy
  //   tracer   an OpenTelemetry Tracer — default the global provider's
  //   maxResponseBytes  response body bytes returned to the sandbox (1 MiB)
  //   timeoutMs         per HTTP request (10000)
  constructor(options = {}) {
    const { fs, fetch, db, policy, tracer, maxResponseBytes = 1 << 20, timeoutMs = 10000 } = options;
    if (fs !== undefined && (!fs || typeof fs.readFile !== 'function')) throw new TypeError('fs: needs readFile(path, encoding)');
    if (fetch !== undefined && typeof fetch !== 'function') throw new TypeError('fetch: must be a function');
    if (db !== undefined && (!db || typeof db.query !== 'function')) throw new TypeError('db: needs query(sql, params)');
    if (!Number.isInteger(maxResponseBytes) || maxResponseBytes < 0) throw new TypeError('maxResponseBytes: a non-negative integer');
    if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) throw new TypeError('timeoutMs: a positive integer');
    this._fs = fs || fsp;
    this._fetch = fetch || globalThis.fetch;
    this._db = db;
    this.policy = policy instanceof Policy ? policy : new Policy(policy);
    this._tracer = tracer;
    this.maxResponseBytes = maxResponseBytes;
    this.timeoutMs = timeoutMs;
    this.tokens = new TokenRegistry();
  }

  get tracer() {
    return this._tracer || api.trace.getTracer(SCOPE, VERSION);
  }

  // instrument wraps runner(call, ...args) so that each invocation is an
  // extension.invoke span carrying extension.id. call is
  // { token, extensionId, traceId }: pass call.token — and only it — into
  // the sandbox with the call; the sandbox-side proxy returns it with each
  // request. The token is revoked when the invocation ends.
  //
  // Each invocation is the root of its own trace (sandwatch counts a root
  // span as the invocation and archives per trace); a span active in the
  // caller's context is linked, not made the parent. childOfActive: true
  // nests the invocation under it instead.
  instrument(runner, { extensionId, attributes = {}, childOfActive = false } = {}) {
    if (typeof runner !== 'function') throw new TypeError('instrument: runner must be a function');
    if (typeof extensionId !== 'string' || extensionId === '') throw new TypeError('instrument: extensionId is required');
    return async (...args) => {
      const parent = api.context.active();
      const caller = api.trace.getSpanContext(parent);
      const span = this.tracer.startSpan(SPAN_INVOKE, {
        kind: api.SpanKind.INTERNAL,
        root: !childOfActive,
        links: !childOfActive && caller && api.isSpanContextValid(caller) ? [{ context: caller }] : [],
        attributes: { ...attributes, [ATTR.EXTENSION_ID]: extensionId },
      }, parent);
      const ctx = api.trace.setSpan(parent, span);
      const token = this.tokens.issue(ctx, extensionId);
      try {
        const call = Object.freeze({ token, extensionId, traceId: span.spanContext().traceId });
        return await api.context.with(ctx, () => runner(call, ...args));
      } catch (err) {
        recordError(span, err, ATTR.ERROR_CODE);
        throw err;
      } finally {
        this.tokens.revoke(token);
        span.end();
      }
    };
  }

  // _op runs one proxied operation under a child span of the token's
  // invocation. fn(span) does the work; a thrown error is recorded with
  // its code under codeKey and rethrown to the sandbox.
  async _op(token, blockType, attributes, codeKey, fn) {
    const inv = this.tokens.resolve(token);
    if (!inv) throw codeError('EBADTOKEN', 'unknown or expired invocation token');
    const span = this.tracer.startSpan(`extension.${inv.extensionId}.${blockType}`, {
      kind: api.SpanKind.CLIENT,
      attributes: { [ATTR.EXTENSION_ID]: inv.extensionId, [ATTR.BLOCK_TYPE]: blockType, ...attributes },
    }, inv.context);
    try {
      return await fn(span);
    } catch (err) {
      if (!err || !err.denied) recordError(span, err, codeKey);
      // Give the caller the same code the span records (fetch's own
      // TypeError keeps it on err.cause).
      if (err && typeof err === 'object' && !err.code) err.code = errorCode(err);
      throw err;
    } finally {
      span.end();
    }
  }

  // _deny records a policy refusal as a denial and returns the error the
  // sandbox receives (code EDENIED).
  _deny(span, capability, reason) {
    span.setAttribute(ATTR.CAPABILITY_NAME, capability);
    span.setAttribute(ATTR.CAPABILITY_DECISION, 'denied');
    span.setAttribute(ATTR.CAPABILITY_REASON, reason);
    span.setStatus({ code: api.SpanStatusCode.ERROR, message: reason });
    const e = codeError('EDENIED', `denied by host policy: ${reason}`);
    e.denied = true;
    return e;
  }

  // readFile(token, path): the fs proxy. Returns the file as UTF-8 text.
  readFile(token, path) {
    const p = String(path);
    return this._op(token, BLOCK.FILE_READ, { [ATTR.FS_OPERATION]: 'read', [ATTR.FS_PATH]: p }, ATTR.FS_ERROR, async (span) => {
      const reason = this.policy.checkPath(p);
      if (reason) throw this._deny(span, 'fs.read', reason);
      return this._fs.readFile(p, 'utf8');
    });
  }

  // fetch(token, url, init): the HTTP proxy. init takes method, headers
  // and a string body. Redirects are followed here (at most 5), each
  // target checked against the policy. Returns { status, statusText,
  // headers, body } with the body as text, at most maxResponseBytes.
  fetch(token, url, init = {}) {
    const method = String(init.method || 'GET').toUpperCase();
    let current = String(url);
    return this._op(token, BLOCK.HTTP, { [ATTR.HTTP_METHOD]: method, [ATTR.HTTP_URL]: current }, ATTR.ERROR_CODE, async (span) => {
      let reason = this.policy.checkURL(current);
      if (reason) throw this._deny(span, 'fetch', reason);
      let m = method;
      let body = init.body === undefined || init.body === null ? undefined : String(init.body);
      for (let hop = 0; ; hop++) {
        const res = await this._fetch(current, {
          method: m, headers: init.headers, body, redirect: 'manual', signal: AbortSignal.timeout(this.timeoutMs),
        });
        const location = res.headers.get('location');
        if (REDIRECTS.has(res.status) && location && hop < MAX_REDIRECTS) {
          const next = new URL(location, current).toString();
          reason = this.policy.checkURL(next);
          if (reason) throw this._deny(span, 'fetch', `redirect to ${next}: ${reason}`);
          if (res.status === 303) {
            m = 'GET';
            body = undefined;
          }
          current = next;
          if (res.body) await res.body.cancel();
          continue;
        }
        span.setAttribute(ATTR.HTTP_STATUS_CODE, res.status);
        if (res.status >= 400) {
          span.setAttribute(ATTR.ERROR_TYPE, String(res.status));
          span.setStatus({ code: api.SpanStatusCode.ERROR, message: `HTTP ${res.status}` });
        }
        const text = await readBounded(res, this.maxResponseBytes);
        return { status: res.status, statusText: res.statusText, headers: Object.fromEntries(res.headers), body: text };
      }
    });
  }

  // query(token, sql, params): the SQL proxy over the host's db adapter.
  query(token, sql, params = []) {
    const q = String(sql);
    const attributes = { [ATTR.SQL_QUERY]: q };
    const op = operationOf(q);
    if (op) attributes[ATTR.SQL_OPERATION] = op;
    const table = tableOf(q);
    if (table) attributes[ATTR.DB_TABLE] = table;
    if (this._db && this._db.system) attributes[ATTR.DB_SYSTEM] = String(this._db.system);
    return this._op(token, BLOCK.SQL, attributes, ATTR.ERROR_CODE, async () => {
      if (!this._db) throw codeError('ENODB', 'no database configured on this host');
      return this._db.query(q, Array.isArray(params) ? params : []);
    });
  }

  // dispatch serves a bridge from a sandbox: it never throws, so a
  // failure crosses the boundary as data and keeps its code.
  async dispatch(token, op, args) {
    const a = Array.isArray(args) ? args : [];
    try {
      switch (op) {
        case 'readFile': return { ok: true, value: await this.readFile(token, a[0]) };
        case 'fetch': return { ok: true, value: await this.fetch(token, a[0], a[1] || {}) };
        case 'query': return { ok: true, value: await this.query(token, a[0], a[1]) };
        default: return { ok: false, error: { code: 'ENOSYS', message: `unknown operation ${String(op)}` } };
      }
    } catch (err) {
      return { ok: false, error: { code: errorCode(err), message: (err && err.message) || String(err) } };
    }
  }
}

module.exports = { HostKit, errorCode, tableOf, operationOf, SCOPE };
