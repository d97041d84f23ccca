/**
 * The one place the publisher turns an entry into JSON text.
 *
 * @module
 */
import type { LogEntry } from '../entry/log-entry.js';
import { serializeLogEntry } from '../entry/serialize.js';

/**
 * Serializes one entry with the compiled {@link serializeLogEntry}. Entries serialized one by one join into
 * exactly what serializing them as an array gives, so a message of several entries is built by joining.
 */
export function serializeEntry(entry: LogEntry): string {
  return serializeLogEntry(entry);
}
