/**
 * `application/x-www-form-urlencoded` parsing with Kong's rules (nginx `get_uri_args` / `get_post_args`),
 * used for `request.querystring` and for urlencoded `body_args`.
 *
 * @module
 */

import { Buffer } from 'node:buffer';
import { defineField } from './headers.js';
import type { QueryMap, QueryValue } from './log-entry.js';

/** Kong reads at most 100 arguments (`lua_max_uri_args`, `lua_max_post_args`); so does kafka-log by default. */
export const DEFAULT_MAX_ARGS = 100;

/**
 * Parses `a=1&a=2&flag&empty=` into `{ a: ['1', '2'], flag: true, empty: '' }`: a repeated key gives an array
 * in order, a key without `=` gives `true`, `+` is a space, an empty key is skipped. Malformed percent-escapes
 * are kept as written (as nginx does) and invalid UTF-8 becomes U+FFFD, so hostile input never throws.
 */
export function parseUrlEncoded(text: string, maxArgs: number = DEFAULT_MAX_ARGS): QueryMap {
  const args: QueryMap = {};
  let count = 0;
  let start = 0;
  const length = text.length;
  while (start <= length && count < maxArgs) {
    let end = text.indexOf('&', start);
    if (end === -1) end = length;
    if (end > start) {
      const equals = text.indexOf('=', start);
      const hasValue = equals !== -1 && equals < end;
      const key = decodeComponent(text.slice(start, hasValue ? equals : end));
      if (key !== '') {
        const value: string | boolean = hasValue ? decodeComponent(text.slice(equals + 1, end)) : true;
        addArg(args, key, value);
        count++;
      }
    }
    start = end + 1;
  }
  return args;
}

function addArg(args: QueryMap, key: string, value: string | boolean): void {
  const existing: QueryValue | undefined = Object.hasOwn(args, key) ? args[key] : undefined;
  if (existing === undefined) defineField(args, key, value);
  else if (Array.isArray(existing)) existing.push(value);
  else defineField<QueryValue>(args, key, [existing, value]);
}

/** Decodes `+` and percent-escapes; never throws. */
export function decodeComponent(raw: string): string {
  if (raw.indexOf('%') === -1) return raw.indexOf('+') === -1 ? raw : raw.replaceAll('+', ' ');
  const spaced = raw.indexOf('+') === -1 ? raw : raw.replaceAll('+', ' ');
  try {
    return decodeURIComponent(spaced);
  } catch {
    return decodeLeniently(spaced);
  }
}

/** Byte-wise decoding for input `decodeURIComponent` rejects: bad escapes stay literal, bad UTF-8 → U+FFFD. */
function decodeLeniently(text: string): string {
  const bytes = Buffer.from(text, 'utf8');
  const out = Buffer.allocUnsafe(bytes.length);
  let written = 0;
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i] as number;
    if (byte === 0x25 && i + 2 < bytes.length && isHex(bytes[i + 1]) && isHex(bytes[i + 2])) {
      out[written++] = Number.parseInt(String.fromCharCode(bytes[i + 1] as number, bytes[i + 2] as number), 16);
      i += 2;
    } else {
      out[written++] = byte;
    }
  }
  return out.toString('utf8', 0, written);
}

function isHex(byte: number | undefined): boolean {
  return (
    byte !== undefined && ((byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x46) || (byte >= 0x61 && byte <= 0x66))
  );
}
