'use strict';
const { randomBytes } = require('node:crypto');

// TokenRegistry carries trace context across the isolation boundary
// without handing it to the sandbox. The host registers an invocation's
// span context and extension id and gets back an opaque token: 128 random
// bits, hex. The token goes into the sandbox with the call; the
// sandbox-side proxy sends it back with each request; the host resolves it
// here and parents its child span on the stored context. Nothing about the
// trace can be read from the token, it cannot be forged or pointed at
// another invocation, and it stops resolving when its invocation ends.
class TokenRegistry {
  constructor() {
    this._live = new Map();
  }

  issue(context, extensionId) {
    const token = randomBytes(16).toString('hex');
    this._live.set(token, { context, extensionId });
    return token;
  }

  // resolve returns { context, extensionId } or undefined.
  resolve(token) {
    return typeof token === 'string' ? this._live.get(token) : undefined;
  }

  revoke(token) {
    this._live.delete(token);
  }

  get size() {
    return this._live.size;
  }
}

module.exports = { TokenRegistry };
