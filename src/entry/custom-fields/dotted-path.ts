/**
 * Dotted paths into a log entry (`request.headers.x-tenant`) and Kong's `set_serialize_value` write rules
 * (`kong/pdk/log.lua`, `edit_result`), reproduced step for step:
 *
 * - every segment but the last is walked; a missing one (absent or `undefined`, Lua's nil) is created as `{}`
 *   in modes `set` and `add` (also when the value is `undefined`, as Kong does), while in mode `replace` the
 *   write silently does nothing;
 * - a segment that exists but does not hold an object is an error in every mode (arrays and `null` count as
 *   non-objects here: Kong's dotted keys are string keys, which do not index JSON arrays);
 * - the last segment is written in mode `set` always, in `add` only when absent, in `replace` only when present;
 *   writing `undefined` removes the key.
 *
 * @module
 */

import type { CustomFieldMode } from '../entry-options.js';

/** Segments that would reach an object's prototype machinery rather than its data. */
const FORBIDDEN_SEGMENTS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/** A JSON-object-like node the writer can descend into. */
type Node = Record<string, unknown>;

/**
 * Checks a dotted key. Returns what is wrong with it, or `undefined` when it is usable.
 * A usable key is non-empty, has no empty segment (`a..b`, `.a`, `a.`) and no `__proto__`, `constructor` or
 * `prototype` segment.
 */
export function dottedPathProblem(key: string): string | undefined {
  if (typeof key !== 'string') return 'the key must be a string';
  if (key === '') return 'the key must not be empty';
  const segments = key.split('.');
  for (const segment of segments) {
    if (segment === '') return 'the key must not have an empty segment (check for "..", or a leading or trailing ".")';
    if (FORBIDDEN_SEGMENTS.has(segment)) return `the key must not have a "${segment}" segment`;
  }
  return undefined;
}

/** Splits a dotted key into its segments. Call {@link dottedPathProblem} first; this does not validate. */
export function splitDottedPath(key: string): readonly string[] {
  return key.split('.');
}

/** Whether `value` is a node a dotted path may descend into: a non-null, non-array object. */
export function isPathNode(value: unknown): value is Node {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The own value at `segment` of `node`; inherited properties count as absent. */
function ownValue(node: Node, segment: string): unknown {
  return Object.hasOwn(node, segment) ? node[segment] : undefined;
}

/** What a {@link writeDottedPath} call did. */
type PathWriteResult =
  /** The value was written or removed. */
  | { readonly kind: 'written' }
  /** The mode's rule said not to write (`add` on a present key, `replace` on an absent one). */
  | { readonly kind: 'skipped' }
  /** The segment at `index` holds `found`, which is not an object, so nothing below it can be written. */
  | { readonly kind: 'blocked'; readonly index: number; readonly found: unknown };

const WRITTEN: PathWriteResult = Object.freeze({ kind: 'written' });
const SKIPPED: PathWriteResult = Object.freeze({ kind: 'skipped' });

/**
 * Writes `value` at `segments` below `root` with Kong's rules (see the module comment); `undefined` removes.
 * Never throws: a non-object on the way is reported as `blocked`, and nothing is changed in that case except
 * objects already created for missing segments above it (Kong behaves the same).
 */
export function writeDottedPath(
  root: Node,
  segments: readonly string[],
  value: unknown,
  mode: CustomFieldMode,
): PathWriteResult {
  const last = segments.length - 1;
  let node = root;
  for (let index = 0; index < last; index++) {
    const segment = segments[index]!;
    let next = ownValue(node, segment);
    if (next === undefined) {
      if (mode === 'replace') return SKIPPED; // a missing link: replace has nothing to replace
      next = {};
      node[segment] = next;
    } else if (!isPathNode(next)) {
      return { kind: 'blocked', index, found: next };
    }
    node = next as Node;
  }
  const segment = segments[last]!;
  const existing = ownValue(node, segment);
  if (mode === 'add' && existing !== undefined) return SKIPPED;
  if (mode === 'replace' && existing === undefined) return SKIPPED;
  if (value === undefined) {
    if (Object.hasOwn(node, segment)) delete node[segment];
  } else {
    node[segment] = value;
  }
  return WRITTEN;
}

/** Reads the own value at a dotted key below `root`; `undefined` when any segment is missing or not an object. */
export function readDottedPath(root: unknown, key: string): unknown {
  let node = root;
  for (const segment of splitDottedPath(key)) {
    if (!isPathNode(node)) return undefined;
    node = ownValue(node, segment);
  }
  return node;
}
