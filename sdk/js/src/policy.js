'use strict';
const path = require('node:path');

// Policy is the host's own access rules, checked before an operation runs.
// A refusal is recorded as a denial (capability.decision=denied), distinct
// from an error the operating system or the server returned (EACCES, 403),
// which is recorded as an error with its code.
//
//   paths: absolute path prefixes the extension may read; unset = any path
//   hosts: host names the extension may call ("api.example.com",
//          "*.example.com" for subdomains); unset = any host
class Policy {
  constructor({ paths, hosts } = {}) {
    if (paths !== undefined && !Array.isArray(paths)) throw new TypeError('policy.paths: an array of absolute paths');
    if (hosts !== undefined && !Array.isArray(hosts)) throw new TypeError('policy.hosts: an array of host names');
    this.paths = paths && paths.map((p, i) => {
      if (typeof p !== 'string' || !path.isAbsolute(p)) throw new TypeError(`policy.paths[${i}]: ${JSON.stringify(p)} is not an absolute path`);
      return path.resolve(p);
    });
    this.hosts = hosts && hosts.map((h, i) => {
      if (typeof h !== 'string' || h === '' || /[/:?#@\s]/.test(h)) throw new TypeError(`policy.hosts[${i}]: ${JSON.stringify(h)} is not a host name`);
      return h.toLowerCase().replace(/\.$/, '');
    });
  }

  // checkPath returns a reason string when p may not be read, else ''.
  checkPath(p) {
    if (!this.paths) return '';
    const abs = path.resolve(p);
    for (const root of this.paths) {
      if (abs === root || abs.startsWith(root.endsWith(path.sep) ? root : root + path.sep)) return '';
    }
    return `path ${abs} outside the allowed paths`;
  }

  // checkURL returns a reason string when u may not be called, else ''.
  checkURL(u) {
    let url;
    try {
      url = new URL(u);
    } catch {
      return 'invalid URL';
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return `scheme ${url.protocol} not allowed`;
    if (!this.hosts) return '';
    const host = url.hostname.toLowerCase().replace(/\.$/, '').replace(/^\[|\]$/g, '');
    for (const h of this.hosts) {
      if (h === host) return '';
      if (h.startsWith('*.') && host.endsWith(h.slice(1))) return '';
    }
    return `host ${host} not in allowlist`;
  }
}

module.exports = { Policy };
