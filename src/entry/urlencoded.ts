/**
 * `application/x-www-form-urlencoded` with Kong's rules (nginx `get_uri_args` / `get_post_args`): the parsed
 * `request.querystring` and urlencoded `body_args`, and the in-place rewrite of the raw text used to redact
 * fields.
 *
 * @module
 */

import { Buffer, isUtf8 } from 'node:buffer';
import type { QueryMap, QueryValue } from './log-entry.js';
import { defineField } from './own-field.js';


/** Kong reads at most 100 arguments (`lua_max_uri_args`, `lua_max_post_args`); later pairs are not parsed. */
export const DEFAULT_MAX_ARGS = 100;

/**
 * Parses `a=1&a=2&flag&empty=` into `{ a: ['1', '2'], flag: true, empty: '' }`. `+` is a space, an empty key
 * is skipped, at most `maxArgs` pairs are read. Never throws: malformed escapes are kept as written.
 */
export function parseUrlEncoded(text: string, maxArgs: number = DEFAULT_MAX_ARGS): QueryMap {
  const args: QueryMap = {};
  let count = 0;
  let start = 0;
  const length = text.length;
  while (start < length && count < maxArgs) {
    let end = text.indexOf('&', start);
    if (end === -1) end = length;
    const equals = text.indexOf('=', start);
    const hasValue = equals !== -1 && equals < end;
    const key = decodeComponent(text.slice(start, hasValue ? equals : end));
    if (key !== '') {
      addArg(args, key, hasValue ? decodeComponent(text.slice(equals + 1, end)) : true);
      count++;
    }
    start = end + 1;
  }
  return args;
}

/**
 * Returns `text` with the value of every pair whose decoded key satisfies `isRedacted` replaced by the
 * (percent-encoded) `replacement`; a bare key becomes `key=replacement`. Everything else is kept byte for byte,
 * so the raw body still reads as sent, minus the secrets.
 */
export function redactUrlEncoded(text: string, isRedacted: (key: string) => boolean, replacement: string): string {
  const encoded = encodeURIComponent(replacement);
  let out = '';
  let copiedUpTo = 0;
  let start = 0;
  const length = text.length;
  while (start < length) {
    let end = text.indexOf('&', start);
    if (end === -1) end = length;
    const equals = text.indexOf('=', start);
    const hasValue = equals !== -1 && equals < end;
    const keyEnd = hasValue ? equals : end;
    if (keyEnd > start && isRedacted(decodeComponent(text.slice(start, keyEnd)))) {
      out += `${text.slice(copiedUpTo, keyEnd)}=${encoded}`;
      copiedUpTo = end;
    }
    start = end + 1;
  }
  return copiedUpTo === 0 ? text : out + text.slice(copiedUpTo);
}

/**
 * Decodes `+` as a space and percent-escapes as UTF-8. Like nginx, a malformed escape (`%`, `%zz`) is kept as
 * written. When the escapes decode to bytes that are not valid UTF-8 (`%FF`), the component keeps its raw,
 * undecoded text instead of turning into U+FFFD: the log stays lossless and the reader sees what was sent.
 */
export function decodeComponent(raw: string): string {
  const hasPercent = raw.indexOf('%') !== -1;
  const spaced = raw.indexOf('+') === -1 ? raw : raw.replaceAll('+', ' ');
  if (!hasPercent) return spaced;
  try {
    return decodeURIComponent(spaced);
  } catch {
    return decodeLeniently(raw, spaced);
  }
}

function decodeLeniently(raw: string, spaced: string): string {
  const bytes = Buffer.from(spaced, 'utf8');
  let written = 0;
  // Decoding only ever shrinks the text, so it can be done in place.
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i] as number;
    const high = byte === 0x25 ? hexValue(bytes[i + 1]) : -1;
    const low = high === -1 ? -1 : hexValue(bytes[i + 2]);
    if (low === -1) {
      bytes[written++] = byte;
    } else {
      bytes[written++] = high * 16 + low;
      i += 2;
    }
  }
  const decoded = bytes.subarray(0, written);
  return isUtf8(decoded) ? decoded.toString('utf8') : raw;
}

function hexValue(byte: number | undefined): number {
  if (byte === undefined) return -1;
  if (byte >= 0x30 && byte <= 0x39) return byte - 0x30;
  const lower = byte | 0x20;
  if (lower >= 0x61 && lower <= 0x66) return lower - 0x61 + 10;
  return -1;
}

function addArg(args: QueryMap, key: string, value: string | boolean): void {
  const existing = Object.hasOwn(args, key) ? args[key] : undefined;
  if (existing === undefined) defineField<QueryValue>(args, key, value);
  else if (Array.isArray(existing)) existing.push(value);
  else defineField<QueryValue>(args, key, [existing, value]);
}
