/**
 * `logEntrySchema`: the JSON Schema (draft 7) of a {@link LogEntry}. The serializer is compiled from it once,
 * and `validateLogEntry` in the testing kit checks entries against it.
 *
 * Header and query maps are typed (string values, string lists, `true` for a bare query key); body_args,
 * route, service, consumer and custom fields are open. The serializer compiles a loosened copy of this schema
 * (see `serialize.ts`) and falls back to this one for entries that do not fit the loosened copy.
 *
 * @module
 */

const anyValue = {} as const;
const openObject = { type: 'object', additionalProperties: true } as const;
const headerMap = {
  type: 'object',
  additionalProperties: { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] },
} as const;
const queryMap = {
  type: 'object',
  additionalProperties: {
    anyOf: [
      { type: 'string' },
      { type: 'boolean' },
      { type: 'array', items: { anyOf: [{ type: 'string' }, { type: 'boolean' }] } },
    ],
  },
} as const;

const bodyProperties = {
  body: { type: 'string' },
  body_args: anyValue,
  body_base64: { type: 'boolean' },
  body_truncated: { type: 'boolean' },
  body_args_error: { type: 'string' },
} as const;

/** A JSON Schema document (draft 7), as plain data. */
export type JsonSchema = { readonly [keyword: string]: unknown };

const entrySchema = {
  $id: 'kafka-log/log-entry',
  title: 'Kong log entry',
  type: 'object',
  required: ['request', 'upstream_uri', 'upstream_status', 'response', 'latencies', 'client_ip', 'started_at', 'source'],
  properties: {
    request: {
      type: 'object',
      required: ['id', 'uri', 'url', 'querystring', 'method', 'headers', 'size'],
      properties: {
        id: { type: 'string' },
        uri: { type: 'string' },
        url: { type: 'string' },
        querystring: queryMap,
        method: { type: 'string' },
        headers: headerMap,
        size: { type: 'integer', minimum: 0 },
        tls: {
          type: 'object',
          required: ['version', 'cipher', 'client_verify'],
          properties: {
            version: { type: 'string' },
            cipher: { type: 'string' },
            client_verify: { type: 'string' },
          },
          additionalProperties: true,
        },
        ...bodyProperties,
      },
      additionalProperties: true,
    },
    upstream_uri: { type: 'string' },
    upstream_status: { type: 'string' },
    response: {
      type: 'object',
      required: ['status', 'headers', 'size'],
      properties: {
        status: { type: 'integer' },
        headers: headerMap,
        size: { type: 'integer', minimum: 0 },
        ...bodyProperties,
      },
      additionalProperties: true,
    },
    latencies: {
      type: 'object',
      required: ['request', 'proxy', 'kong', 'receive'],
      properties: {
        request: { type: 'number' },
        proxy: { type: 'number' },
        kong: { type: 'number' },
        receive: { type: 'number' },
      },
      additionalProperties: true,
    },
    tries: { type: 'array', items: openObject },
    authenticated_entity: {
      type: 'object',
      required: ['id'],
      properties: { id: { type: 'string' }, consumer_id: { type: 'string' } },
      additionalProperties: true,
    },
    route: openObject,
    service: openObject,
    consumer: openObject,
    client_ip: { type: 'string' },
    started_at: { type: 'number' },
    source: { type: 'string', enum: ['upstream', 'kong'] },
    workspace: { type: 'string' },
    workspace_name: { type: 'string' },
    trace_id: { type: 'string' },
    correlation_id: { type: 'string' },
  },
  additionalProperties: true,
} as const;

/** JSON Schema (draft 7) of one log entry: Kong's layout plus kafka-log's body fields. */
export const logEntrySchema: JsonSchema = entrySchema;
