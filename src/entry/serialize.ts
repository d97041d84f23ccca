/**
 * `serializeLogEntry`: the hot serializer, compiled once at module load with fast-json-stringify from
 * {@link logEntrySchema}.
 *
 * @module
 */

import fastJson from 'fast-json-stringify';
import { SerializeError, describeError } from '../errors.js';
import { isPlainObject } from '../options/check.js';
import type { LogEntry, LoggedBody, LoggedRequest, LoggedResponse, TlsInfo } from './log-entry.js';
import { logEntrySchema } from './schema.js';

/**
 * Two serializers, both compiled once from {@link logEntrySchema}:
 *
 * - the loose one, for every entry whose `request`, `response`, `route`, `service` and `consumer` hold what the
 *   schema says (checked field by field by {@link fitsLooseSchema}, a few dozen `typeof`s): those objects are
 *   left to an empty schema, so fast-json-stringify hands each to V8's native `JSON.stringify` in one call.
 *   Typing them made it walk header and query maps in JavaScript, write route/service/consumer key by key and
 *   test the long `body` strings with a regular expression before escaping them anyway, all measured slower
 *   (see `bench/entry.mjs`). Their keys keep the order they were set in (the builder sets them in schema order);
 * - the strict one, compiled from the schema as it is, for any other entry: it coerces or rejects what does not
 *   fit, so the output conforms either way.
 *
 * Header and query map values are not checked on either path: the builder only puts strings, string lists and
 * (query) `true` in them.
 */
function looseSchema(): object {
  const schema = structuredClone(logEntrySchema) as unknown as { properties: Record<string, object> };
  for (const field of LOOSE_FIELDS) schema.properties[field] = {};
  return schema;
}

const LOOSE_FIELDS = ['request', 'response', 'route', 'service', 'consumer'] as const;

const stringifyLoose = fastJson(looseSchema()) as (entry: LogEntry) => string;
const stringifyStrict = fastJson(logEntrySchema) as (entry: LogEntry) => string;

/** Whether the fields the loose schema leaves untyped hold what the strict schema expects of them. */
function fitsLooseSchema(entry: LogEntry): boolean {
  const request = entry.request as Partial<LoggedRequest> | null | undefined;
  const response = entry.response as Partial<LoggedResponse> | null | undefined;
  if (!isPlainObject(request) || !isPlainObject(response)) return false;
  const tls = request.tls as Partial<TlsInfo> | null | undefined;
  return (
    typeof request.id === 'string' &&
    typeof request.uri === 'string' &&
    typeof request.url === 'string' &&
    typeof request.method === 'string' &&
    isPlainObject(request.querystring) &&
    isPlainObject(request.headers) &&
    isSize(request.size) &&
    (tls === undefined ||
      (isPlainObject(tls) && typeof tls.version === 'string' && typeof tls.cipher === 'string' && typeof tls.client_verify === 'string')) &&
    fitsBody(request) &&
    Number.isInteger(response.status) &&
    isPlainObject(response.headers) &&
    isSize(response.size) &&
    fitsBody(response) &&
    isRecordOrAbsent(entry.route) &&
    isRecordOrAbsent(entry.service) &&
    isRecordOrAbsent(entry.consumer)
  );
}

function fitsBody(side: Partial<LoggedBody>): boolean {
  return (
    (side.body === undefined || typeof side.body === 'string') &&
    (side.body_base64 === undefined || typeof side.body_base64 === 'boolean') &&
    (side.body_truncated === undefined || typeof side.body_truncated === 'boolean') &&
    (side.body_args_error === undefined || typeof side.body_args_error === 'string')
  );
}

function isSize(value: unknown): boolean {
  return Number.isInteger(value) && (value as number) >= 0;
}

function isRecordOrAbsent(value: unknown): boolean {
  return value === undefined || isPlainObject(value);
}

function stringifyEntry(entry: LogEntry): string {
  return fitsLooseSchema(entry) ? stringifyLoose(entry) : stringifyStrict(entry);
}

/**
 * Serializes one entry to JSON, or several (Kong's `max_batch_size` > 1) to a JSON array. The array form is
 * exactly `[` + each entry's own serialization joined by `,` + `]`, so a caller may serialize entries one by one
 * and join them later. Throws {@link SerializeError} when a field cannot take its schema type.
 *
 * The output always conforms to {@link logEntrySchema}. Top-level fields come in the schema's order, then any
 * custom ones; `request` and `response` keep the order their keys were set in (the builder sets them in the
 * schema's order), unless one of their fields holds a value of the wrong kind, in which case they too are
 * written in the schema's order with the value coerced to its type.
 */
export function serializeLogEntry(entry: LogEntry | readonly LogEntry[]): string {
  try {
    if (!Array.isArray(entry)) return stringifyEntry(entry as LogEntry);
    let out = '[';
    for (let i = 0; i < entry.length; i++) {
      if (i > 0) out += ',';
      out += stringifyEntry(entry[i] as LogEntry);
    }
    return `${out}]`;
  } catch (error) {
    throw new SerializeError(describeError(error), error);
  }
}
