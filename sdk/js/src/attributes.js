'use strict';
// Attribute keys the kit records. They are the keys sandwatch's event model
// reads with its `goose` profile (extension.id, block.type, fs.*, http.*,
// sql.*, db.table, error.code) and its `semconv` profile (error.type,
// db.system), and, for denials only, its `js_capability_audit` profile
// (capability.name, capability.decision). A collector on the default event
// model classifies every span without configuration.

const ATTR = Object.freeze({
  EXTENSION_ID: 'extension.id',
  BLOCK_TYPE: 'block.type',
  FS_OPERATION: 'fs.operation',
  FS_PATH: 'fs.path',
  FS_ERROR: 'fs.error',
  HTTP_METHOD: 'http.method',
  HTTP_URL: 'http.url', // whole, as requested: scrub removes credentials in the collector
  HTTP_STATUS_CODE: 'http.status_code',
  SQL_QUERY: 'sql.query', // as sent, literals included: scrub/pii templates them on the hot path
  SQL_OPERATION: 'sql.operation',
  DB_TABLE: 'db.table',
  DB_SYSTEM: 'db.system',
  ERROR_CODE: 'error.code',
  ERROR_TYPE: 'error.type',
  CAPABILITY_NAME: 'capability.name',
  CAPABILITY_DECISION: 'capability.decision',
  CAPABILITY_REASON: 'capability.reason',
});

const BLOCK = Object.freeze({
  FILE_READ: 'FileReadBlock',
  HTTP: 'HttpRequestBlock',
  SQL: 'SqlQueryBlock',
});

const SPAN_INVOKE = 'extension.invoke';

module.exports = { ATTR, BLOCK, SPAN_INVOKE };
