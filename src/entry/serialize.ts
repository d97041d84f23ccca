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
 * The schema the serializer is compiled from: {@link logEntrySchema} with the header and query maps left to an
 * empty schema. fast-json-stringify hands empty-schema values to V8's native `JSON.stringify`; typing every
 * map value instead made it walk them in JavaScript, which measured slower (see `bench/entry.mjs`). The
 * builder only ever puts strings, booleans and string arrays in these maps, so the output still conforms.
 */
function serializationSchema(): object {
  const schema = structuredClone(logEntrySchema) as unknown as {
    properties: { request: { properties: Record<string, object> }; response: { properties: Record<string, object> } };
  };
  schema.properties.request.properties.headers = {};
  schema.properties.request.properties.querystring = {};
  schema.properties.response.properties.headers = {};
  return schema;
}

const stringifyEntry = fastJson(serializationSchema()) as (entry: LogEntry) => string;

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
