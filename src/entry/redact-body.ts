/**
 * Redaction of body fields: `redactBodyFields` paths replace values in `body_args`, and the raw `body` of a form
 * is rewritten to match (the body encoder decides what to do with raw JSON and multipart text).
 *
 * @module
 */

import { redactFormText } from './form.js';
import type { JsonValue } from './log-entry.js';

/** Redaction paths split once, cached per configured list (the list is fixed for a builder's lifetime). */
interface CompiledPaths {
  /** Each path split at its dots. */
  readonly segments: ReadonlyArray<readonly string[]>;
  /** Top-level keys whose raw form values must go: every whole path and every first segment. */
  readonly rawKeys: ReadonlySet<string>;
}

const compiledCache = new WeakMap<readonly string[], CompiledPaths>();

function compile(paths: readonly string[]): CompiledPaths {
  let compiled = compiledCache.get(paths);
  if (compiled === undefined) {
    const rawKeys = new Set<string>();
    for (const path of paths) {
      rawKeys.add(path);
      rawKeys.add(path.split('.', 1)[0] as string);
    }
    compiled = { segments: paths.map((path) => path.split('.')), rawKeys };
    compiledCache.set(paths, compiled);
  }
  return compiled;
}

/**
 * Replaces, in place, the values that `paths` name in `args` with `replacement`, and says whether any was
 * replaced. A path is a dotted walk (`user.card.number`); where the walk meets an array, a numeric segment picks
 * that element and any other segment applies to every element (`items.secret`). A top-level key spelled exactly
 * like the whole path also matches, for form field names that contain dots (`user.email`). Only existing
 * values are replaced; nothing is created.
 */
export function redactBodyArgs(args: JsonValue, paths: readonly string[], replacement: string): boolean {
  let changed = false;
  for (const segments of compile(paths).segments) {
    if (segments.length > 1 && isObject(args) && Object.hasOwn(args, segments.join('.'))) {
      args[segments.join('.')] = replacement;
      changed = true;
    }
    if (redactAt(args, segments, 0, replacement)) changed = true;
  }
  return changed;
}

/**
 * Rewrites a raw urlencoded body so that no value redacted from its `body_args` survives in the text. It errs
 * on the safe side: a pair is redacted when its key is a whole path or the first segment of one (`tags.0`
 * redacts every `tags` value in the raw text). Works on a cut body too, since it needs no full parse.
 */
export function redactFormBody(text: string, paths: readonly string[], replacement: string): string {
  const { rawKeys } = compile(paths);
  return redactFormText(text, (key) => rawKeys.has(key), replacement);
}

function redactAt(value: JsonValue, segments: readonly string[], index: number, replacement: string): boolean {
  const segment = segments[index] as string;
  const last = index === segments.length - 1;
  if (Array.isArray(value)) {
    if (isIndex(segment)) {
      const position = Number(segment);
      if (position >= value.length) return false;
      if (last) {
        value[position] = replacement;
        return true;
      }
      return redactAt(value[position] as JsonValue, segments, index + 1, replacement);
    }
    let changed = false;
    for (const element of value) {
      if (redactAt(element, segments, index, replacement)) changed = true;
    }
    return changed;
  }
  if (!isObject(value) || !Object.hasOwn(value, segment)) return false;
  if (last) {
    value[segment] = replacement;
    return true;
  }
  return redactAt(value[segment] as JsonValue, segments, index + 1, replacement);
}

function isObject(value: JsonValue): value is { [key: string]: JsonValue } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isIndex(segment: string): boolean {
  return /^(?:0|[1-9]\d{0,8})$/.test(segment);
}
