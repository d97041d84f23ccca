/**
 * Writing fields whose names come from the client (headers, query and form keys) without touching prototypes.
 *
 * @module
 */

/**
 * Assigns an own property, also for the name `__proto__`, which a plain assignment would turn into a prototype
 * change.
 */
export function defineField<T>(target: Record<string, T>, key: string, value: NoInfer<T>): void {
  if (key === '__proto__') Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true });
  else target[key] = value;
}
