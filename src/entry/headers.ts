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
  /** Lower-cased names already seen, reused across calls (a builder keeps one); names are lower-cased afresh without it. */
  names?: HeaderNames;
}

/**
 * A bounded memo of lower-cased header names. A service sees the same few dozen names on every request;
 * reusing their lower-cased form spares a string allocation per header and lets V8 store them into the map
 * through its property caches. Past `capacity` distinct names (a client inventing names), names are lower-cased
 * without being remembered, so memory stays bounded.
 */
export class HeaderNames {
  private readonly known = new Map<string, string>();

  /** @param capacity Most names remembered. */
  constructor(private readonly capacity = 1024) {}

  /** `name` lower-cased. */
  lowerCase(name: string): string {
    const known = this.known.get(name);
    if (known !== undefined) return known;
    const lower = name.toLowerCase();
    if (this.known.size < this.capacity) this.known.set(name, lower);
    return lower;
  }
}

/**
 * Builds Kong's header map from raw headers. Redacted headers keep their name and get one `redactedValue`
 * string, whatever they held (Kong replaces the whole value).
 */
export function toHeaderMap(raw: RawHeaders, options: HeaderMapOptions): HeaderMap {
  const map: HeaderMap = {};
  const names = options.names;
  // Every header line counts, repeats of a name included, as in Kong (ngx.req.get_headers): 10,000 lines of one
  // name must not become one name with 10,000 values.
  if (isFlatList(raw)) {
    const end = Math.min(raw.length - (raw.length % 2), options.maxHeaders * 2);
    for (let i = 0; i < end; i += 2) {
      const name = raw[i] as string;
      addHeader(map, names === undefined ? name.toLowerCase() : names.lowerCase(name), raw[i + 1] as string);
    }
  } else {
    let kept = 0;
    for (const name of Object.keys(raw)) {
      const value = raw[name];
      if (value === undefined) continue;
      const key = names === undefined ? name.toLowerCase() : names.lowerCase(name);
      if (typeof value === 'object') {
        for (const item of value) if (kept++ < options.maxHeaders) addHeader(map, key, item);
      } else if (kept++ < options.maxHeaders) {
        addHeader(map, key, String(value));
      }
    }
  }

  for (const name of options.redact) {
    if (Object.hasOwn(map, name)) defineField<string | string[]>(map, name, options.redactedValue);
  }
  return map;
}

/** Adds one line under its lower-cased name `key`. */
function addHeader(map: HeaderMap, key: string, value: string): void {
  // Only a string or an array is a value of ours: names like `constructor` or `__proto__` find Object.prototype's
  // members, which count as absent (and defineField writes `__proto__` as an own field).
  const found = map[key];
  if (typeof found === 'string') map[key] = [found, value];
  else if (Array.isArray(found)) found.push(value);
  else if (key !== '__proto__') map[key] = value;
  else defineField<string | string[]>(map, key, value);
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
