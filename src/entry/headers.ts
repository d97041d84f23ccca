/**
 * Header maps in Kong's shape: lower-cased names, a repeated header becomes an array of its values.
 *
 * @module
 */

import type { RawHeaders } from './exchange.js';
import type { HeaderMap } from './log-entry.js';
import { defineField } from './own-field.js';

/** Kong reads at most 100 headers per message (`lua_max_req_headers`); so does kafka-log by default. */
export const DEFAULT_MAX_HEADERS = 100;

/** What {@link toHeaderMap} needs to know besides the headers. */
export interface HeaderMapOptions {
  /** Lower-cased names whose values become `redactedValue`. */
  redact: ReadonlySet<string>;
  /** The replacement text. */
  redactedValue: string;
  /** Most header lines kept (repeats of a name count); the rest are left out (bounded memory for hostile requests). */
  maxHeaders: number;
}

/**
 * Builds Kong's header map from raw headers. Redacted headers keep their name and get one `redactedValue`
 * string, whatever they held (Kong replaces the whole value).
 */
export function toHeaderMap(raw: RawHeaders, options: HeaderMapOptions): HeaderMap {
  const map: HeaderMap = {};
  let kept = 0;
  const add = (name: string, value: string): void => {
    // Every header line counts, repeats of a name included, as in Kong (ngx.req.get_headers): 10,000 lines of one
    // name must not become one name with 10,000 values.
    if (kept >= options.maxHeaders) return;
    kept++;
    const key = name.toLowerCase();
    // hasOwn: names like `constructor` would otherwise find Object.prototype's members.
    const existing = Object.hasOwn(map, key) ? map[key] : undefined;
    if (existing === undefined) {
      defineField<string | string[]>(map, key, value);
    } else if (typeof existing === 'string') {
      map[key] = [existing, value];
    } else {
      existing.push(value);
    }
  };

  if (isFlatList(raw)) {
    for (let i = 0; i + 1 < raw.length; i += 2) add(raw[i] as string, raw[i + 1] as string);
  } else {
    for (const name of Object.keys(raw)) {
      const value = raw[name];
      if (value === undefined) continue;
      if (typeof value === 'object') for (const item of value) add(name, item);
      else add(name, String(value));
    }
  }

  for (const name of options.redact) {
    if (Object.hasOwn(map, name)) defineField<string | string[]>(map, name, options.redactedValue);
  }
  return map;
}


/** The first value of a header in a raw header list or record, or undefined; `name` must be lower-case. */
export function firstHeader(raw: RawHeaders, name: string): string | undefined {
  if (isFlatList(raw)) {
    for (let i = 0; i + 1 < raw.length; i += 2) {
      if ((raw[i] as string).toLowerCase() === name) return raw[i + 1];
    }
    return undefined;
  }
  for (const key of Object.keys(raw)) {
    if (key.toLowerCase() !== name) continue;
    const value = raw[key];
    if (value === undefined) return undefined;
    if (typeof value === 'object') return value[0];
    return String(value);
  }
  return undefined;
}

/**
 * Bytes of the header block as sent on the wire (`name: value\r\n` per header plus the closing `\r\n`).
 * Node decodes header bytes as latin1, so one character is one byte.
 */
export function headerBlockSize(raw: RawHeaders): number {
  let size = 2;
  if (isFlatList(raw)) {
    for (let i = 0; i + 1 < raw.length; i += 2) size += (raw[i] as string).length + (raw[i + 1] as string).length + 4;
    return size;
  }
  for (const name of Object.keys(raw)) {
    const value = raw[name];
    if (value === undefined) continue;
    if (typeof value === 'object') for (const item of value) size += name.length + item.length + 4;
    else size += name.length + String(value).length + 4;
  }
  return size;
}

function isFlatList(raw: RawHeaders): raw is readonly string[] {
  return Array.isArray(raw);
}
