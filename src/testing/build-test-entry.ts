/**
 * `buildTestEntry`: the entry an adapter would publish for an exchange, given the same entry options and
 * custom fields: `buildLogEntry` then the custom fields, as the adapters apply them. Unlike an adapter (which
 * reports a failing custom field and still sends the entry), it throws, so a test sees the mistake.
 * `createTestAdapter` runs the adapter options too (`filter`, `sampleRate`, hooks), as an adapter does.
 *
 * @module
 */
import { createLogEntryBuilder } from '../entry/build.js';
import { type CompiledCustomFields, applyCustomFields } from '../entry/custom-fields/custom-fields.js';
import type { HttpExchange } from '../entry/exchange.js';
import type { LogEntry } from '../entry/log-entry.js';
import type { CustomFieldContext, CustomFields, EntryOptions } from '../entry/entry-options.js';

/** Options of {@link buildTestEntry}: the entry options an adapter takes, its custom fields and their context. */
export interface TestEntryOptions extends EntryOptions {
  /** Custom fields (functions or expression strings), as given to an adapter. */
  customFields?: CustomFields | CompiledCustomFields;
  /** What custom fields receive as `context` (adapters pass `{ request }`, the framework's request). */
  context?: CustomFieldContext;
}

/**
 * Builds the entry for `exchange` as an adapter with these options would, custom fields applied.
 *
 * @throws the `BodyParseError` of an unparsable body (Kong's default policy), or the first `CustomFieldError` (of a
 * body condition, which receives `context.request`, or of a custom field).
 */
export function buildTestEntry(exchange: HttpExchange, options: TestEntryOptions = {}): LogEntry {
  const { customFields, context, ...entryOptions } = options;
  const entry = createLogEntryBuilder(entryOptions).build(exchange, context?.request);
  if (customFields !== undefined) {
    const [failure] = applyCustomFields(entry, customFields, context ?? {});
    if (failure) throw failure;
  }
  return entry;
}
