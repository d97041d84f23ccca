/**
 * `multipart/form-data` bodies parsed into `body_args` with busboy, synchronously: busboy's `write()` parses a
 * whole in-memory body before it returns and emits `field`/`file` as it goes, so no event loop turn is needed.
 *
 * @module
 */

import type { Buffer } from 'node:buffer';
import type { Readable } from 'node:stream';
import busboy from 'busboy';
import { defineField } from './own-field.js';
import type { JsonObject, JsonValue } from './log-entry.js';

/** How a file part appears in `body_args` (under its part name): described, never inlined. */
interface MultipartFileDescription {
  /** The file name the client sent (path stripped); left out when the part named none. */
  filename?: string;
  /** The part's media type (`text/plain` when the part gave none). */
  content_type: string;
  /** The file's length in bytes. */
  size: number;
}

/** At most this many parts are read; later parts stay in the raw `body` only, so huge forms stay cheap. */
export const MAX_MULTIPART_PARTS = 1000;

/** The result of {@link parseMultipart}. */
type MultipartResult =
  | {
      /** The body parsed. */
      ok: true;
      /** Fields and file descriptions by part name. */
      args: JsonObject;
    }
  | {
      /** The body could not be parsed. */
      ok: false;
      /** busboy's reason (it never quotes the body). */
      reason: string;
    };

/**
 * Parses a complete multipart body. Fields become strings (a repeated name gives an array in order), files
 * become {@link MultipartFileDescription}s, parts without a name are skipped. A missing boundary, a malformed
 * part header or a body without its closing boundary is a failure. Never throws.
 */
export function parseMultipart(body: Buffer, contentType: string): MultipartResult {
  const args: JsonObject = {};
  const files: Array<{ stream: Readable; entry: MultipartFileDescription & JsonObject }> = [];
  let failure: string | undefined;
  let parser: busboy.Busboy;
  try {
    parser = busboy({
      headers: { 'content-type': contentType },
      limits: { parts: MAX_MULTIPART_PARTS, fieldSize: Number.POSITIVE_INFINITY, fieldNameSize: Number.POSITIVE_INFINITY },
      // Browsers send UTF-8 file names; busboy's default (latin1) would garble them.
      defParamCharset: 'utf8',
    });
  } catch (error) {
    return { ok: false, reason: reasonOf(error) };
  }
  // Kept attached for good: busboy and its file streams may report errors on a later tick, after this returns;
  // an 'error' event without a listener would crash the host process.
  parser.on('error', (error: unknown) => {
    failure ??= reasonOf(error);
  });
  parser.on('field', (name, value) => {
    if (name !== undefined) addPart(args, name, value);
  });
  parser.on('file', (name, stream, info) => {
    stream.on('error', ignore);
    const entry: MultipartFileDescription & JsonObject =
      info.filename === undefined
        ? { content_type: info.mimeType, size: 0 }
        : { filename: info.filename, content_type: info.mimeType, size: 0 };
    files.push({ stream, entry });
    if (name !== undefined) addPart(args, name, entry);
  });
  parser.write(body);
  parser.end();
  // end() records an incomplete form on the stream synchronously but emits it later: read it from `errored`.
  failure ??= parser.errored ? reasonOf(parser.errored) : undefined;
  for (const file of files) {
    // The file's bytes sit unread in its stream's buffer (views of `body`, not copies): its length is the size.
    file.entry.size = file.stream.readableLength;
    file.stream.destroy();
  }
  if (failure !== undefined) return { ok: false, reason: failure };
  return { ok: true, args };
}

function addPart(args: JsonObject, name: string, value: JsonValue): void {
  const existing = Object.hasOwn(args, name) ? args[name] : undefined;
  if (existing === undefined) defineField<JsonValue>(args, name, value);
  else if (Array.isArray(existing)) existing.push(value);
  else defineField<JsonValue>(args, name, [existing, value]);
}

function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function ignore(): void {}
