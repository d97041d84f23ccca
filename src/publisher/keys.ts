/**
 * Where an entry goes: its topic, message key and headers, from the publish call's meta, the query string
 * (Kong's `key_query_arg`, kafka-log's `topicQueryArg`) or the caller's functions.
 *
 * @module
 */
import type { LogEntry, QueryValue } from '../entry/log-entry.js';
import type { PublishMeta, ResolvedPublisherOptions } from './publisher-options.js';

/** The routing of one entry. `topic` is `null` when the entry asked for a topic it may not use. */
interface Routing {
  /** Topic, or `null` when not allowed. */
  topic: string | null;
  /** Key bytes, or `null`. */
  key: Buffer | null;
  /** Headers, when any. */
  headers: Record<string, string | Buffer> | undefined;
}

type RoutingOptions = Pick<
  ResolvedPublisherOptions,
  'topic' | 'keyQueryArg' | 'key' | 'selectTopic' | 'topicQueryArg' | 'allowedTopics' | 'messageHeaders'
>;

// Kong reads the first value when an argument repeats; a bare `?key` (true) gives no key.
function queryArg(entry: LogEntry, name: string): string | undefined {
  const value: QueryValue | undefined = entry.request?.querystring?.[name];
  const first = Array.isArray(value) ? value[0] : value;
  return typeof first === 'string' && first.length > 0 ? first : undefined;
}

function toKey(value: string | Buffer | null | undefined): Buffer | null {
  if (value === undefined || value === null) return null;
  return typeof value === 'string' ? Buffer.from(value) : value;
}

function chooseTopic(entry: LogEntry, meta: PublishMeta | undefined, options: RoutingOptions): string | null {
  const asked =
    meta?.topic ??
    (options.topicQueryArg === undefined ? undefined : queryArg(entry, options.topicQueryArg)) ??
    options.selectTopic?.(entry);
  if (asked === undefined || asked === options.topic) return options.topic;
  if (options.allowedTopics !== undefined && !options.allowedTopics.has(asked)) return null;
  return asked;
}

function chooseKey(entry: LogEntry, meta: PublishMeta | undefined, options: RoutingOptions): Buffer | null {
  if (meta !== undefined && 'key' in meta && meta.key !== undefined) return toKey(meta.key);
  const fromQuery = options.keyQueryArg === undefined ? undefined : queryArg(entry, options.keyQueryArg);
  if (fromQuery !== undefined) return Buffer.from(fromQuery);
  return toKey(options.key?.(entry));
}

function chooseHeaders(
  entry: LogEntry,
  meta: PublishMeta | undefined,
  options: RoutingOptions,
): Record<string, string | Buffer> | undefined {
  const base = typeof options.messageHeaders === 'function' ? options.messageHeaders(entry) : options.messageHeaders;
  if (meta?.headers === undefined) return base;
  return base === undefined ? meta.headers : { ...base, ...meta.headers };
}

/** Routes one entry. May throw what a caller's function throws; the publisher counts that as a drop. */
export function routeEntry(entry: LogEntry, meta: PublishMeta | undefined, options: RoutingOptions): Routing {
  return {
    topic: chooseTopic(entry, meta, options),
    key: chooseKey(entry, meta, options),
    headers: chooseHeaders(entry, meta, options),
  };
}
