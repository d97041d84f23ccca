/**
 * Body encoding by the Kafka Log plugin's body rules (the README's "Bodies" section lists them): turns a captured
 * body and its `Content-Type` into the `body`, `body_args`, `body_base64` and `body_truncated` fields of a request
 * or response. The rules are on {@link encodeBody}.
 *
 * @module
 */

import { Buffer, isUtf8 } from 'node:buffer';
import { BodyParseError, type BodySide } from '../errors.js';
import { integer, refuse } from '../options/check.js';
import { type BodyKind, bodyKindOf, mediaTypeOf } from './content-type.js';
import type { ExchangeBody } from './exchange.js';
import { parseUrlEncoded } from './urlencoded.js';
import type { JsonValue, LoggedBody } from './log-entry.js';
import { parseMultipart } from './multipart.js';
import { redactBodyArgs, redactFormBody } from './redact-body.js';

export type { BodyKind } from './content-type.js';
export { bodyKindOf, mediaTypeOf } from './content-type.js';

/** Options of {@link encodeBody}. */
export interface BodyEncodingOptions {
  /** Which body this is; named in parse errors. */
  side: BodySide;
  /** Longest body logged, in bytes; longer bodies are cut and marked `body_truncated`. */
  maxBodySize: number;
  /** Deepest JSON nesting (arrays and objects) parsed; deeper bodies are parse failures. */
  maxJsonDepth: number;
  /** Dotted paths into `body_args` whose values are replaced by `redactedValue`. */
  redactBodyFields?: readonly string[];
  /** The replacement text. Default `"REDACTED"`. */
  redactedValue?: string;
}

/**
 * The body fields of one side. On a parse failure, `fields` still holds the raw body (without `body_args`) so
 * that a `'keep'` policy can send it.
 */
export type BodyEncoding =
  | {
      /** The body was encoded (and parsed, where its type is parsed and it was not cut). */
      ok: true;
      /** The body fields to merge into `request` or `response`. */
      fields: LoggedBody;
    }
  | {
      /** A body of a parsed type could not be parsed. */
      ok: false;
      /** Why; its message never quotes the body. */
      error: BodyParseError;
      /** The raw body without `body_args`, for a `'keep'` policy. */
      fields: LoggedBody;
    };

const DEFAULT_REDACTED_VALUE = 'REDACTED';

/**
 * Encodes a captured body by its `Content-Type`. Pure and synchronous; never throws on any body (only on an
 * invalid `maxBodySize`/`maxJsonDepth`, with an `InvalidOptionError`). The rules, including those Kong leaves open:
 *
 * - Media types are matched without parameters and case. `application/json`, `application/x-www-form-urlencoded`
 *   and `multipart/form-data` are parsed into `body_args`; `text/plain`, `text/html`, `application/xml`,
 *   `text/xml` and `application/soap+xml` are text; any other type (`+json` suffixes included, as in Kong), or a
 *   non-empty body without a content type, is base64 with `body_base64: true`.
 * - An empty body that was not cut gives no body fields at all.
 * - A body longer than `maxBodySize`, or one the adapter already cut (`totalSize > bytes.length`), is cut at the
 *   limit and gets `body_truncated: true`. A cut body of a parsed type is not parsed: no `body_args` and no
 *   error, since a prefix is not a malformed body. Text is cut at a UTF-8 character boundary (up to 3 bytes
 *   short of the limit) so `body` stays valid text.
 * - Text and parsed bodies go in `body` as text when they are valid UTF-8, else as base64 with
 *   `body_base64: true`: lossless, and the entry stays valid JSON.
 * - JSON: nesting deeper than `maxJsonDepth` is a parse failure, found by a linear bracket scan before
 *   `JSON.parse`, so a 100k-deep body costs no stack. A UTF-8 byte order mark is skipped. A body that is not
 *   valid UTF-8 is a parse failure. Error messages never quote the body.
 * - Urlencoded: Kong's rules (repeats give arrays, a bare key gives `true`, `+` is a space, empty keys are
 *   skipped, at most 100 pairs as with Kong's `lua_max_post_args`). A malformed escape is kept as written and
 *   escapes that decode to invalid UTF-8 keep the raw text of that key or value: never a failure. A body that
 *   is not valid UTF-8 is a parse failure.
 * - Multipart: fields are strings (repeats give arrays), files are `{ filename, content_type, size }` under
 *   their part name, unnamed parts are skipped, at most 1000 parts are read (the rest stay in the raw `body`).
 *   A missing boundary, a malformed part header or a missing closing boundary is a parse failure.
 * - Redaction (`redactBodyFields`) replaces values in `body_args`; the raw `body` must not leak them: a redacted
 *   JSON body is re-serialized from its redacted `body_args` (compact), a form body has the values rewritten in
 *   place, and a redacted multipart body loses its raw `body`. When `body_args` cannot be built (cut or
 *   unparseable body) and redaction is configured, a form body is still rewritten in place, and the raw `body`
 *   of a JSON or multipart body is left out, since it cannot be checked. Text and base64 bodies are not redacted.
 */
export function encodeBody(body: ExchangeBody, contentType: string | undefined, options: BodyEncodingOptions): BodyEncoding {
  checkCount('maxBodySize', options.maxBodySize);
  checkCount('maxJsonDepth', options.maxJsonDepth);
  const bytes = body.bytes;
  const captured = bytes.byteLength;
  const truncated = captured > options.maxBodySize || (body.totalSize !== undefined && body.totalSize > captured);
  if (captured === 0 && !truncated) return { ok: true, fields: {} };

  // A view, not a copy: the per-request path only ever reads these bytes. A whole Buffer is used as it is.
  const view =
    captured <= options.maxBodySize && Buffer.isBuffer(bytes)
      ? bytes
      : Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(captured, options.maxBodySize));
  const mediaType = mediaTypeOf(contentType);
  const kind = bodyKindOf(mediaType);
  if (kind === 'binary') return { ok: true, fields: withTruncation(base64Fields(view), truncated) };

  const paths = options.redactBodyFields !== undefined && options.redactBodyFields.length > 0 ? options.redactBodyFields : undefined;
  const replacement = options.redactedValue ?? DEFAULT_REDACTED_VALUE;

  if (truncated) {
    const fields = withTruncation(textFields(cutAtCharBoundary(view)) ?? base64Fields(view), true);
    return { ok: true, fields: paths === undefined ? fields : redactUnparsed(fields, kind, paths, replacement) };
  }
  if (kind === 'text') return { ok: true, fields: textFields(view) ?? base64Fields(view) };

  const fail = (reason: string, fields: LoggedBody): BodyEncoding => ({
    ok: false,
    error: new BodyParseError(options.side, mediaType, reason),
    fields: paths === undefined ? fields : redactUnparsed(fields, kind, paths, replacement),
  });

  if (kind === 'multipart') {
    const raw = textFields(view) ?? base64Fields(view);
    const parsed = parseMultipart(view, contentType ?? '');
    if (!parsed.ok) return fail(parsed.reason, raw);
    if (paths !== undefined && redactBodyArgs(parsed.args, paths, replacement)) return { ok: true, fields: { body_args: parsed.args } };
    return { ok: true, fields: { ...raw, body_args: parsed.args } };
  }

  if (!isUtf8(view)) return fail('the body is not valid UTF-8', base64Fields(view));
  const text = view.toString('utf8');

  if (kind === 'urlencoded') {
    const args = parseUrlEncoded(text);
    if (paths !== undefined && redactBodyArgs(args, paths, replacement)) {
      return { ok: true, fields: { body: redactFormBody(text, paths, replacement, args), body_args: args } };
    }
    return { ok: true, fields: { body: text, body_args: args } };
  }

  const depth = jsonDepth(text, options.maxJsonDepth);
  if (depth > options.maxJsonDepth) return fail(`nesting deeper than ${options.maxJsonDepth} levels`, { body: text });
  let args: JsonValue;
  try {
    args = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text) as JsonValue;
  } catch (error) {
    // V8's message quotes the body, which may hold secrets: keep only the position, and no cause.
    const position = /at position (\d+)/.exec(error instanceof Error ? error.message : '')?.[1];
    return fail(position === undefined ? 'invalid JSON' : `invalid JSON at position ${position}`, { body: text });
  }
  if (paths !== undefined && redactBodyArgs(args, paths, replacement)) return { ok: true, fields: redactedJsonFields(args) };
  return { ok: true, fields: { body: text, body_args: args } };
}

/** A redacted JSON body: the raw text would leak the secrets, so `body` is re-serialized from `body_args`. */
function redactedJsonFields(args: JsonValue): LoggedBody {
  try {
    return { body: JSON.stringify(args), body_args: args };
  } catch {
    // Only reachable with a huge `maxJsonDepth` (stack exhaustion); leave the raw body out rather than fail.
    return { body_args: args };
  }
}

/** Raw text when the bytes are valid UTF-8, else undefined. */
function textFields(bytes: Buffer): LoggedBody | undefined {
  return isUtf8(bytes) ? { body: bytes.toString('utf8') } : undefined;
}

function base64Fields(bytes: Buffer): LoggedBody {
  return { body: bytes.toString('base64'), body_base64: true };
}

function withTruncation(fields: LoggedBody, truncated: boolean): LoggedBody {
  if (truncated) fields.body_truncated = true;
  return fields;
}

/** The raw body of a parsed type whose `body_args` could not be built, made safe for the redaction paths. */
function redactUnparsed(fields: LoggedBody, kind: BodyKind, paths: readonly string[], replacement: string): LoggedBody {
  if (kind !== 'json' && kind !== 'urlencoded' && kind !== 'multipart') return fields;
  if (kind === 'urlencoded' && fields.body !== undefined && fields.body_base64 !== true) {
    return { ...fields, body: redactFormBody(fields.body, paths, replacement) };
  }
  const { body: _body, body_base64: _base64, ...rest } = fields;
  return rest;
}

/** Drops an incomplete UTF-8 sequence at the end of a cut body. */
function cutAtCharBoundary(bytes: Buffer): Buffer {
  const end = bytes.length;
  let lead = end - 1;
  // Walk back over at most 3 continuation bytes (10xxxxxx) to the lead byte of the last character.
  while (lead >= 0 && end - lead <= 3 && ((bytes[lead] as number) & 0xc0) === 0x80) lead--;
  if (lead < 0) return bytes;
  const byte = bytes[lead] as number;
  const width = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
  return end - lead < width ? bytes.subarray(0, lead) : bytes;
}

/**
 * The deepest nesting of `[`/`{` outside strings, stopping as soon as it exceeds `limit`. Iterative, so a
 * 100k-deep body costs one linear scan and no stack. JSON's syntax is ASCII, so the decoded text is scanned
 * as it is: no other character can be taken for a bracket, a quote or a backslash.
 */
function jsonDepth(text: string, limit: number): number {
  // Nesting can only exceed the limit with more than `limit` opening brackets in the body. Counting them with
  // native string searches is far cheaper than the scan below, and typical bodies stop well short of the limit.
  if (openingBracketsAtMost(text, limit)) return 0;
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (inString) {
      if (code === 0x5c) i++;
      else if (code === 0x22) inString = false;
    } else if (code === 0x22) {
      inString = true;
    } else if (code === 0x5b || code === 0x7b) {
      if (++depth > deepest) {
        deepest = depth;
        if (deepest > limit) return deepest;
      }
    } else if (code === 0x5d || code === 0x7d) {
      depth--;
    }
  }
  return deepest;
}

/**
 * Whether `text` holds at most `limit` `[` and `{` in all (inside strings too: an upper bound). String searches
 * rather than `Buffer#indexOf`: each of those is a call into C++.
 */
function openingBracketsAtMost(text: string, limit: number): boolean {
  let count = 0;
  for (let at = text.indexOf('{'); at !== -1; at = text.indexOf('{', at + 1)) if (++count > limit) return false;
  for (let at = text.indexOf('['); at !== -1; at = text.indexOf('[', at + 1)) if (++count > limit) return false;
  return true;
}

function checkCount(field: string, value: number): void {
  if (value === undefined) refuse(field, 'is required');
  integer(field, value, 0, 0);
}
