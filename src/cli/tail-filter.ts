/**
 * The filters of `kafka-log tail`: status (`5xx`, `404`, `>=400`, comma lists), method, route, least latency.
 * Pure: an entry in, a yes or no out.
 *
 * @module
 */
import { UsageError } from './io.js';

/** The filters given on the command line; absent ones let everything through. */
interface TailFilterOptions {
  /** Status spec, e.g. `5xx`, `404`, `>=400`, `4xx,503`. */
  status?: string;
  /** Methods, comma-separated, any case. */
  method?: string;
  /** Route: matched against the route's `name`, `path`, `paths[]` and `id`. */
  route?: string;
  /** Least `latencies.request`, ms. */
  minLatency?: number;
}

/** A compiled filter. */
type EntryFilter = (entry: unknown) => boolean;

type StatusTest = (status: number) => boolean;

function compileStatusTerm(term: string): StatusTest {
  const klass = /^([1-5])xx$/i.exec(term);
  if (klass) {
    const hundreds = Number(klass[1]);
    return (s) => Math.floor(s / 100) === hundreds;
  }
  const exact = /^\d{3}$/.exec(term);
  if (exact) return (s) => s === Number(term);
  const compare = /^(>=|<=|>|<)(\d{3})$/.exec(term);
  if (compare) {
    const bound = Number(compare[2]);
    switch (compare[1]) {
      case '>=':
        return (s) => s >= bound;
      case '<=':
        return (s) => s <= bound;
      case '>':
        return (s) => s > bound;
      default:
        return (s) => s < bound;
    }
  }
  throw new UsageError(`--status must be like 5xx, 404 or >=400 (comma-separated for several), got "${term}"`);
}

/** Compiles a status spec; several comma-separated terms match when any matches. */
export function compileStatusFilter(spec: string): StatusTest {
  const tests = spec
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t.length > 0)
    .map(compileStatusTerm);
  if (tests.length === 0) throw new UsageError('--status needs a value such as 5xx, 404 or >=400');
  return (status) => tests.some((test) => test(status));
}

function field(value: unknown, name: string): unknown {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[name] : undefined;
}

function routeMatches(route: unknown, wanted: string): boolean {
  if (typeof route !== 'object' || route === null) return false;
  for (const name of ['name', 'path', 'id']) if (field(route, name) === wanted) return true;
  const paths = field(route, 'paths');
  return Array.isArray(paths) && paths.includes(wanted);
}

/** Compiles the filters into one predicate over a parsed entry. */
export function compileEntryFilter(options: TailFilterOptions): EntryFilter {
  const tests: EntryFilter[] = [];
  if (options.status !== undefined) {
    const status = compileStatusFilter(options.status);
    tests.push((entry) => {
      const value = field(field(entry, 'response'), 'status');
      return typeof value === 'number' && status(value);
    });
  }
  if (options.method !== undefined) {
    const methods = new Set(options.method.split(',').map((m) => m.trim().toUpperCase()));
    tests.push((entry) => {
      const value = field(field(entry, 'request'), 'method');
      return typeof value === 'string' && methods.has(value.toUpperCase());
    });
  }
  if (options.route !== undefined) {
    const route = options.route;
    tests.push((entry) => routeMatches(field(entry, 'route'), route));
  }
  if (options.minLatency !== undefined) {
    const least = options.minLatency;
    tests.push((entry) => {
      const value = field(field(entry, 'latencies'), 'request');
      return typeof value === 'number' && value >= least;
    });
  }
  return (entry) => tests.every((test) => test(entry));
}
