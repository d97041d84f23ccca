/**
 * Redaction of body fields: `redactBodyFields` paths replace values in `body_args`, and the raw `body` of a form
 * is rewritten to match (the body encoder decides what to do with raw JSON and multipart text).
 *
 * @module
 */

import { isPlainObject } from '../options/check.js';
import type { QueryMap } from './log-entry.js';
import { redactUrlEncoded } from './urlencoded.js';
import type { JsonValue } from './log-entry.js';

/** Redaction paths split once, cached per configured list (the list is fixed for a builder's lifetime). */
interface CompiledPaths {
  /** Each path split at its dots. */
  readonly segments: ReadonlyArray<readonly string[]>;
  /** Every path as written. */
  readonly wholePaths: ReadonlySet<string>;
  /** The first segment of every path of two or more segments. */
  readonly firstSegments: ReadonlySet<string>;
}

const compiledCache = new WeakMap<readonly string[], CompiledPaths>();

function compile(paths: readonly string[]): CompiledPaths {
  let compiled = compiledCache.get(paths);
  if (compiled === undefined) {
    const segments = paths.map((path) => path.split('.'));
    const firstSegments = new Set<string>();
    for (const split of segments) if (split.length > 1) firstSegments.add(split[0] as string);
    compiled = { segments, wholePaths: new Set(paths), firstSegments };
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
  const { segments: allSegments } = compile(paths);
  for (let i = 0; i < allSegments.length; i++) {
    const segments = allSegments[i] as readonly string[];
    const path = paths[i] as string;
    if (segments.length > 1 && isPlainObject(args) && Object.hasOwn(args, path)) {
      args[path] = replacement;
      changed = true;
    }
    if (redactAt(args, segments, 0, replacement)) changed = true;
  }
  return changed;
}

/**
 * Rewrites a raw urlencoded body so that no value redacted from its `body_args` survives in the text. A pair is
 * redacted when its key is a whole path, or the first segment of a longer one (`tags.0`) whose value in `args`
 * is an array, since a flat form can only be walked into through a repeated key; then every value of that key
 * goes. Without `args` (a cut body, never parsed) it errs on the safe side: the first segment of every path
 * counts. Needs no full parse, so it works on a cut body too.
 */
export function redactFormBody(text: string, paths: readonly string[], replacement: string, args?: QueryMap): string {
  const { wholePaths, firstSegments } = compile(paths);
  const isRedacted = (key: string): boolean =>
    wholePaths.has(key) || (firstSegments.has(key) && (args === undefined || Array.isArray(args[key])));
  return redactUrlEncoded(text, isRedacted, replacement);
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
  if (!isPlainObject(value) || !Object.hasOwn(value, segment)) return false;
  if (last) {
    value[segment] = replacement;
    return true;
  }
  return redactAt(value[segment] as JsonValue, segments, index + 1, replacement);
}

function isIndex(segment: string): boolean {
  return /^(?:0|[1-9]\d{0,8})$/.test(segment);
}
