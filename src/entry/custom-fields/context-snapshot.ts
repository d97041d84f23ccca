/**
 * What a custom-field expression sees as `context`: a bounded data snapshot of what the adapter passes (the
 * framework's request), as JSON text for the expression engine.
 *
 * @module
 */

import { type PathSet, selectPaths } from './expression-analysis.js';

/** Deepest level of `context` copied into the sandbox. */
const MAX_CONTEXT_DEPTH = 8;
/** Most values of `context` copied into the sandbox, so a huge framework object costs little. */
const MAX_CONTEXT_VALUES = 2000;

/**
 * The JSON text of what an expression sees as `context`: a data snapshot. Copied are primitives, arrays, plain
 * objects, and the own enumerable properties of the objects directly inside `context` (e.g. a framework
 * request's `url`, `method`, `params`, `body`), except `_`-prefixed internals. Functions, symbols, bigints,
 * binary data, class instances further down, cycles, and anything beyond 8 levels or 2000 values are left out.
 * Function fields get the real context; use one when an expression cannot reach what it needs. With `paths`,
 * only what they select of the snapshot.
 */
export function contextToJson(context: Readonly<Record<string, unknown>> | undefined, paths?: PathSet): string {
  if (context === undefined || context === null) return '{}';
  if (paths !== undefined && !paths.all && paths.children.size === 0) return '{}';
  const budget = { left: MAX_CONTEXT_VALUES };
  const copy = copyContextValue(context, 0, budget, []);
  if (copy === undefined) return '{}';
  return JSON.stringify(paths === undefined ? copy : selectPaths(copy, paths));
}

/** One step of {@link contextToJson}; `undefined` means "leave out". */
function copyContextValue(value: unknown, depth: number, budget: { left: number }, ancestors: unknown[]): unknown {
  if (budget.left-- <= 0) return undefined;
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      return Number.isFinite(value) ? value : undefined;
    case 'object':
      break;
    default:
      return undefined;
  }
  if (value === null) return null;
  if (depth >= MAX_CONTEXT_DEPTH || ancestors.includes(value)) return undefined;
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return undefined;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? undefined : value.toISOString();
  ancestors.push(value);
  let copy: unknown;
  if (Array.isArray(value)) {
    const list: unknown[] = [];
    for (const item of value) {
      if (budget.left <= 0) break;
      const copied = copyContextValue(item, depth + 1, budget, ancestors);
      list.push(copied === undefined ? null : copied);
    }
    copy = list;
  } else {
    const proto: unknown = Object.getPrototypeOf(value);
    const plain = proto === null || Object.getPrototypeOf(proto) === null;
    // Class instances are copied only directly below `context` (the framework request, say), not further down.
    if (plain || depth <= 1) {
      const object: Record<string, unknown> = {};
      for (const key of Object.keys(value)) {
        if (budget.left <= 0) break;
        if (!plain && key.startsWith('_')) continue;
        const copied = copyContextValue((value as Record<string, unknown>)[key], depth + 1, budget, ancestors);
        if (copied !== undefined) object[key] = copied;
      }
      copy = object;
    }
  }
  ancestors.pop();
  return copy;
}
