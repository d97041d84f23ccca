/**
 * The check that a custom field's value is JSON data within `maxValueBytes` of JSON: one implementation for the
 * values of function fields (run on the host) and of expression fields (run inside the QuickJS sandbox, whose setup
 * script is given this function's text, see `sandbox-setup.ts`). So the factory is self-contained: it reads
 * nothing from this module or its imports, only the realm it runs in, whose intrinsics it keeps when called (the
 * sandbox calls it before any expression can run).
 *
 * @module
 */

/** The check {@link createJsonValueCheck} makes. */
export interface JsonValueCheck {
  /** What keeps `value` from being JSON data within `maxBytes` of JSON, or `undefined` when it is fine. */
  problem(value: unknown, maxBytes: number): string | undefined;
  /**
   * The size problem of JSON text already written, or `undefined`: a value that passed `problem` may still write
   * more when a getter or a Proxy answers differently the second time it is read.
   */
  textProblem(json: string, maxBytes: number): string | undefined;
}

/**
 * Creates the check. A top-level `undefined` is fine (it removes the field). Sizes are counted as bounds first
 * and exactly only when the bounds straddle the limit, so a typical small value costs a type check or two; the
 * walk allocates nothing unless something is wrong. Problems read like `a function is not a JSON value (at
 * value.a[2])`.
 */
export function createJsonValueCheck(): JsonValueCheck {
  const getPrototypeOf = Object.getPrototypeOf;
  const isArray = Array.isArray;
  const isFiniteNumber = Number.isFinite;
  const hasOwn = Object.hasOwn;
  /** Below this depth no cycle check is needed: a cycle always makes a path deeper than this. */
  const CYCLE_CHECK_DEPTH = 64;
  /** The widest JSON a number can take (`-1.2345678901234567e-308`). */
  const MAX_NUMBER_CHARS = 24;

  /** Lower and upper bounds of the JSON size seen so far. */
  let lowBytes = 0;
  let highBytes = 0;
  let exact = false;
  const ancestors: unknown[] = [];
  /** Where a problem was found, innermost step first (filled only on the error path). */
  const problemPath: string[] = [];

  const addBytes = (low: number, high: number): void => {
    lowBytes += low;
    highBytes += high;
  };

  /** UTF-8 bytes of `text`; when `quoted`, of the JSON string that writes it (quotes and escapes included). */
  const utf8Bytes = (text: string, quoted: boolean): number => {
    let bytes = quoted ? 2 : 0;
    for (let index = 0; index < text.length; index++) {
      const code = text.charCodeAt(index);
      if (code < 0x80) {
        if (!quoted) bytes += 1;
        else if (code === 0x22 || code === 0x5c) bytes += 2;
        else if (code < 0x20) bytes += code === 0x08 || code === 0x09 || code === 0x0a || code === 0x0c || code === 0x0d ? 2 : 6;
        else bytes += 1;
      } else if (code < 0x800) bytes += 2;
      else if (code >= 0xd800 && code <= 0xdbff) {
        const next = text.charCodeAt(index + 1);
        if (next >= 0xdc00 && next <= 0xdfff) {
          bytes += 4;
          index++;
        } else bytes += quoted ? 6 : 3; // JSON writes a lone surrogate as an escape
      } else if (code >= 0xdc00 && code <= 0xdfff) bytes += quoted ? 6 : 3;
      else bytes += 3;
    }
    return bytes;
  };

  /** Adds a JSON string's size: bounds normally, the exact UTF-8 size of its escaped form when `exact`. */
  const countString = (text: string): void => {
    if (!exact) {
      addBytes(text.length + 2, text.length * 6 + 2);
      return;
    }
    const bytes = utf8Bytes(text, true);
    addBytes(bytes, bytes);
  };

  const walkArray = (list: readonly unknown[], maxBytes: number): string | undefined => {
    const commas = list.length === 0 ? 0 : list.length - 1;
    addBytes(2 + commas, 2 + commas);
    for (let index = 0; index < list.length; index++) {
      const item = list[index];
      if (item === undefined) {
        addBytes(4, 4); // JSON writes null
        continue;
      }
      const problem = walk(item, maxBytes);
      if (problem !== undefined) {
        problemPath.push(`[${index}]`);
        return problem;
      }
      if (lowBytes > maxBytes) return undefined;
    }
    return undefined;
  };

  const walkObject = (object: Record<string, unknown>, maxBytes: number): string | undefined => {
    addBytes(2, 2);
    let written = 0;
    for (const key in object) {
      if (!hasOwn(object, key)) continue;
      const item = object[key];
      if (item === undefined) continue; // JSON leaves the key out
      if (written++ > 0) addBytes(1, 1); // comma
      countString(key);
      addBytes(1, 1); // colon
      const problem = walk(item, maxBytes);
      if (problem !== undefined) {
        problemPath.push(`.${key}`);
        return problem;
      }
      if (lowBytes > maxBytes) return undefined;
    }
    return undefined;
  };

  /** Adds the JSON size of `value` to the bounds; returns a problem or `undefined`. */
  const walk = (value: unknown, maxBytes: number): string | undefined => {
    switch (typeof value) {
      case 'string':
        countString(value);
        return undefined;
      case 'boolean':
        addBytes(value ? 4 : 5, value ? 4 : 5);
        return undefined;
      case 'number':
        if (!isFiniteNumber(value)) return `${String(value)} is not a JSON number`;
        if (exact) {
          const width = String(value).length;
          addBytes(width, width);
        } else addBytes(1, MAX_NUMBER_CHARS);
        return undefined;
      case 'object':
        break;
      default:
        return `a ${typeof value} is not a JSON value`;
    }
    if (value === null) {
      addBytes(4, 4);
      return undefined;
    }
    // Past the limit there is no point going on.
    if (lowBytes > maxBytes) return undefined;
    if (ancestors.length >= CYCLE_CHECK_DEPTH && ancestors.includes(value)) return 'the value is cyclic';
    let problem: string | undefined;
    ancestors.push(value);
    if (isArray(value)) {
      problem = walkArray(value, maxBytes);
    } else {
      const proto: unknown = getPrototypeOf(value);
      // Realm-neutral: a plain object's prototype is a root prototype (or null).
      if (proto === null || getPrototypeOf(proto) === null) {
        problem = walkObject(value as Record<string, unknown>, maxBytes);
      } else {
        const name = (proto as { constructor?: { name?: unknown } }).constructor?.name;
        const kind = typeof name === 'string' && name !== '' ? name : 'non-plain';
        problem = `a ${kind} object is not JSON data, use plain objects, arrays and primitives`;
      }
    }
    ancestors.pop();
    return problem;
  };

  /** One walk: a problem, or `undefined` with `lowBytes`/`highBytes` set (equal when `exactly`). */
  const measure = (value: unknown, exactly: boolean, maxBytes: number): string | undefined => {
    lowBytes = 0;
    highBytes = 0;
    exact = exactly;
    ancestors.length = 0;
    problemPath.length = 0;
    try {
      const problem = walk(value, maxBytes);
      if (problem === undefined || problemPath.length === 0) return problem;
      return `${problem} (at value${problemPath.reverse().join('')})`;
    } catch (error) {
      // Node throws a RangeError when the stack runs out, QuickJS an InternalError.
      if (error instanceof RangeError || (error instanceof Error && error.name === 'InternalError')) return 'the value is nested too deeply';
      throw error;
    } finally {
      ancestors.length = 0;
      problemPath.length = 0;
    }
  };

  /**
   * Whether `value` refers back to itself within its first `budget` objects: a value found too large may be cyclic
   * (its JSON would be endless), which says more than its size. Only on that error path; `onPath` (a set, so a deep
   * value costs one look-up per object) holds the objects from the root to the current one.
   */
  const isCyclic = (value: unknown, budget: { left: number }, onPath: Set<unknown>): boolean => {
    if (typeof value !== 'object' || value === null || budget.left-- <= 0) return false;
    if (onPath.has(value)) return true;
    onPath.add(value);
    try {
      for (const key in value) {
        if (hasOwn(value, key) && isCyclic((value as Record<string, unknown>)[key], budget, onPath)) return true;
      }
      return false;
    } finally {
      onPath.delete(value);
    }
  };

  const tooLarge = (maxBytes: number): string => `the value is larger than maxValueBytes (${maxBytes} bytes of JSON)`;

  const problem = (value: unknown, maxBytes: number): string | undefined => {
    if (value === undefined) return undefined;
    const first = measure(value, false, maxBytes);
    if (first !== undefined) return first;
    if (highBytes <= maxBytes) return undefined;
    if (lowBytes <= maxBytes) {
      const second = measure(value, true, maxBytes);
      if (second !== undefined) return second;
      if (lowBytes <= maxBytes) return undefined;
    }
    try {
      if (isCyclic(value, { left: 10_000 }, new Set())) return 'the value is cyclic';
    } catch {
      // Nested too deeply to tell: its size speaks.
    }
    return tooLarge(maxBytes);
  };

  // UTF-8 takes one to three bytes per UTF-16 unit: count only when in doubt.
  const textProblem = (json: string, maxBytes: number): string | undefined =>
    json.length * 3 <= maxBytes || (json.length <= maxBytes && utf8Bytes(json, false) <= maxBytes) ? undefined : tooLarge(maxBytes);

  return { problem, textProblem };
}
