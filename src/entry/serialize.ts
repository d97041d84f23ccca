/**
 * `serializeLogEntry`: the hot serializer, compiled once at module load with fast-json-stringify from
 * {@link logEntrySchema}.
 *
 * @module
 */

import fastJson from 'fast-json-stringify';
import { SerializeError, describeError } from '../errors.js';
import type { LogEntry } from './log-entry.js';
import { logEntrySchema } from './schema.js';

/**
 * The schema the serializer is compiled from: {@link logEntrySchema} with the open-ended parts left to an empty
 * schema. fast-json-stringify hands empty-schema values to V8's native `JSON.stringify` in one call; typing them
 * made it walk them in JavaScript (header and query maps) or key by key (route, service, consumer), and check
 * the long `body` strings with a regular expression before escaping them anyway, all measured slower (see
 * `bench/entry.mjs`). The builder only puts strings (and string lists) in the header maps and the query map,
 * and {@link fitsLooseSchema} sends an entry whose loosened fields hold anything else to the strict serializer.
 */
function looseSchema(): object {
  const schema = structuredClone(logEntrySchema) as unknown as {
    properties: Record<string, object> & {
      request: { properties: Record<string, object> };
      response: { properties: Record<string, object> };
    };
  };
  const { request, response } = schema.properties;
  request.properties.headers = {};
  request.properties.querystring = {};
  request.properties.body = {};
  response.properties.headers = {};
  response.properties.body = {};
  for (const field of OPEN_OBJECTS) schema.properties[field] = {};
  return schema;
}

const OPEN_OBJECTS = ['route', 'service', 'consumer'] as const;

const stringifyLoose = fastJson(looseSchema()) as (entry: LogEntry) => string;
/** The serializer compiled from the schema as it is, for entries the loose one cannot take. */
const stringifyStrict = fastJson(logEntrySchema) as (entry: LogEntry) => string;

/** Whether the fields the loose schema leaves untyped hold what the strict schema expects. */
function fitsLooseSchema(entry: LogEntry): boolean {
  const request = entry.request as LogEntry['request'] | undefined;
  const response = entry.response as LogEntry['response'] | undefined;
  return (
    isStringOrAbsent(request?.body) &&
    isStringOrAbsent(response?.body) &&
    isObjectOrAbsent(entry.route) &&
    isObjectOrAbsent(entry.service) &&
    isObjectOrAbsent(entry.consumer)
  );
}

function isStringOrAbsent(value: unknown): boolean {
  return value === undefined || typeof value === 'string';
}

function isObjectOrAbsent(value: unknown): boolean {
  return value === undefined || (typeof value === 'object' && value !== null && !Array.isArray(value));
}

function stringifyEntry(entry: LogEntry): string {
  return fitsLooseSchema(entry) ? stringifyLoose(entry) : stringifyStrict(entry);
}

/**
 * Serializes one entry to JSON, or several (Kong's `max_batch_size` > 1) to a JSON array. The array form is
 * exactly `[` + each entry's own serialization joined by `,` + `]`, so a caller may serialize entries one by one
 * and join them later. Throws {@link SerializeError} when a field cannot take its schema type.
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
