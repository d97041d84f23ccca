/**
 * Text safe for a terminal. Topic data and server messages are written by others: an ESC or CR in a URI could
 * move the cursor, rewrite earlier lines, retitle the window or worse (escape-sequence injection). Every C0
 * control, DEL and C1 control is shown as a visible `\xNN` escape instead; valid Unicode text, backslashes
 * included, is printed as it is.
 *
 * @module
 */
import type { Redactor } from '../secrets.js';
import { maskText } from './mask.js';

// C0 (U+0000-U+001F), DEL (U+007F), C1 (U+0080-U+009F: U+009B is CSI on terminals that take 8-bit controls).
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point.
const CONTROLS = /[\u0000-\u001f\u007f-\u009f]/g;
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point.
const CONTROLS_BUT_NEWLINE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/g;
// What JSON.stringify leaves as is but a terminal or a JavaScript-era JSON reader may not: DEL, C1, and the line
// and paragraph separators.
const JSON_UNSAFE = /[\u007f-\u009f\u2028\u2029]/g;

function hexEscape(char: string): string {
  return `\\x${char.charCodeAt(0).toString(16).padStart(2, '0')}`;
}

function unicodeEscape(char: string): string {
  return `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`;
}

/** `text` with every control character shown as `\xNN` (`\x1b` for ESC, `\x0d` for CR); newlines too unless kept. */
export function escapeControls(text: string, options: { keepNewlines?: boolean } = {}): string {
  return text.replace(options.keepNewlines ? CONTROLS_BUT_NEWLINE : CONTROLS, hexEscape);
}

/**
 * `JSON.stringify(value, null, indent)` with DEL, C1 controls and U+2028/U+2029 written as `\uXXXX` escapes too
 * (JSON.stringify escapes only C0): the same JSON value, and nothing a terminal acts on. These characters occur only
 * inside strings of JSON text, so replacing them there keeps the text valid JSON.
 */
export function terminalJson(value: unknown, indent?: number): string {
  return (JSON.stringify(value, null, indent) ?? 'null').replace(JSON_UNSAFE, unicodeEscape);
}

/**
 * An error's message for stderr: the command's own secrets removed, credentials in URLs and quoted headers masked,
 * control characters escaped. `keepNewlines` for multi-line text (a stack).
 */
export function printableError(error: unknown, secrets?: Redactor, options: { stack?: boolean } = {}): string {
  const raw = error instanceof Error ? (options.stack ? (error.stack ?? error.message) : error.message) : String(error);
  return escapeControls(maskText(secrets ? secrets.scrub(raw) : raw), { keepNewlines: options.stack === true });
}
