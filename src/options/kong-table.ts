/**
 * The machinery behind a table of Kong fields: each row names one field of Kong's plugin configuration, its type
 * and limits as Kong's schema declares them, Kong's default, and the kafka-log option it becomes. From the rows
 * come the field names each level accepts, the checks of Kong's limits, the conversion into options, and the Kong
 * name of an option an error is about. Pure.
 *
 * @module
 */
import { InvalidOptionError, type OptionProblem } from '../errors.js';
import {
  OptionProblems,
  anyText,
  describeValue,
  finiteNumber,
  flag,
  integer,
  isPlainObject,
  type OptionSpec,
  object,
  oneOf,
  refuse,
  refuseUnknownKeys,
  ruleAt,
  secret,
  text,
  textList,
} from './check.js';

/** A field's type in Kong's schema: `record` holds the fields of the rows below it, `map` string values. */
export type KongType = 'string' | 'integer' | 'number' | 'boolean' | 'array' | 'map' | 'record';

/** One field of Kong's configuration, and the option it becomes. `C` is what conversions may consult. */
export interface KongFieldRow<C = unknown> {
  /** Kong's path below the block, e.g. `queue.max_batch_size`. */
  readonly kong: string;
  /** Kong's type. */
  readonly type: KongType;
  /** Type of the items of an `array` (Kong's `elements`); records are checked by `check`. */
  readonly items?: 'string' | 'record';
  /** Kong refuses the configuration without it. */
  readonly required?: boolean;
  /** Kong's `between`: least and greatest value. */
  readonly between?: readonly [number, number];
  /** Kong's `one_of`: the values allowed. */
  readonly oneOf?: readonly (string | number)[];
  /** A password or secret: checked without ever quoting the value. */
  readonly secret?: boolean;
  /** Kong's `len_min`; Kong's default for strings is 1 (empty strings are refused). */
  readonly lenMin?: number;
  /** Kong's default, in Kong's units (applied when the field is absent and its record is there). */
  readonly default?: unknown;
  /** A record Kong creates with its defaults when the configuration leaves it out (Kong's `queue`). */
  readonly alwaysPresent?: boolean;
  /**
   * The option path(s) the value becomes, below the option block. Several paths: `convert` returns one value per
   * path. Absent: the field is accepted and has no effect.
   */
  readonly option?: string | readonly string[];
  /** Whether the row applies, given the block it is in (e.g. only when `authentication.mode` is `basic`). */
  readonly when?: (block: Readonly<Record<string, unknown>>) => boolean;
  /** Turns Kong's value into the option's (seconds into milliseconds...); `undefined` leaves the option unset. */
  readonly convert?: (value: unknown, context: C, field: string) => unknown;
  /**
   * A check replacing the type's (throws {@link InvalidOptionError} naming `field`); a record checked this way is
   * not looked into (its fields are someone else's to check).
   */
  readonly check?: (field: string, value: unknown) => void;
  /**
   * Why kafka-log does not support the field: a value other than Kong's default (or an empty map or list) is
   * refused with this reason.
   */
  readonly unsupported?: string;
  /** What the field means, for the README's options table. */
  readonly meaning: string;
  /** Kong's unit when it differs from the option's (the README marks both). */
  readonly unit?: 's';
  /** The default as the README shows it, when it is not a plain value. */
  readonly defaultText?: string;
  /**
   * How the README's Kong column names the row, for a record summed up in one row (e.g. `oauth2_client.*`).
   * Records without an option are left out of the README otherwise, and so are rows with `readme: false`.
   */
  readonly readmeName?: string;
  /** `false`: not shown in the README (its record's row sums it up). */
  readonly readme?: false;
}

/** An option Kong's configuration does not have (a row of an options table, for the README). */
export interface OptionOnlyRow {
  /** No Kong field. */
  readonly kong?: undefined;
  /** The option path. */
  readonly option: string;
  /** What it means. */
  readonly meaning: string;
  /** What the README's Kong column says instead of a field (e.g. where Kong keeps the setting). */
  readonly kongNote?: string;
  /** The default as the README shows it, when it is not a plain value. */
  readonly defaultText?: string;
}

/** One row of an options table: a Kong field (and the option it becomes), or an option Kong does not have. */
export type OptionsRow<C = unknown> = KongFieldRow<C> | OptionOnlyRow;

/** One row of an options table as the README shows it (see `npm run docs:options`). */
export interface OptionsTableRow {
  /** Kong's field path below the block (`undefined`: an option Kong's configuration does not have). */
  readonly kong: string | undefined;
  /** The option path (several joined by ` + `; `undefined`: a Kong field accepted without effect). */
  readonly option: string | undefined;
  /** What the README's Kong column says instead of `kong`, when set. */
  readonly kongNote: string | undefined;
  /** The option's default, in the option's units; without one, Kong's default. */
  readonly default: unknown;
  /** How the default reads when it is not a plain value (e.g. `` `kafka-log-<random>` ``). */
  readonly defaultText: string | undefined;
  /** Kong (or kafka-log) refuses the configuration without the field. */
  readonly required: boolean;
  /** Kong's type of the field. */
  readonly kongType: KongType | undefined;
  /** Kong's `between`: least and greatest value. */
  readonly between: readonly [number, number] | undefined;
  /** Kong's `one_of`: the values allowed. */
  readonly oneOf: readonly (string | number)[] | undefined;
  /** `s`: Kong's value is in seconds, the option's in milliseconds. */
  readonly unit: 's' | undefined;
  /** What the field or option means. */
  readonly meaning: string;
  /** Whether the README's table shows the row. */
  readonly readme: boolean;
}

/** The rows that are fields of Kong's configuration. */
export function kongRowsOf<C>(rows: readonly OptionsRow<C>[]): KongFieldRow<C>[] {
  return rows.filter((row): row is KongFieldRow<C> => row.kong !== undefined);
}

/** The README's view of `rows`; defaults come from the options' rules in `spec`, else from Kong. */
export function optionsTableOf(rows: readonly OptionsRow<never>[], spec: OptionSpec): OptionsTableRow[] {
  return rows.map((row) => {
    const option = typeof row.option === 'string' ? row.option : row.option?.join(' + ');
    const optionDefault = typeof row.option === 'string' ? ruleAt(spec, row.option)?.default : undefined;
    if (row.kong === undefined) {
      return {
        kong: undefined,
        option,
        kongNote: row.kongNote,
        default: optionDefault,
        defaultText: row.defaultText,
        required: false,
        kongType: undefined,
        between: undefined,
        oneOf: undefined,
        unit: undefined,
        meaning: row.meaning,
        readme: true,
      };
    }
    return {
      kong: row.kong,
      option,
      kongNote: row.readmeName,
      default: optionDefault ?? (row.unit === undefined ? row.default : undefined),
      defaultText: row.defaultText,
      required: row.required === true,
      kongType: row.type,
      between: row.between,
      oneOf: row.oneOf,
      unit: row.unit,
      meaning: row.meaning,
      readme: row.readme !== false && (row.type !== 'record' || row.option !== undefined || row.readmeName !== undefined),
    };
  });
}

/** Kong's delays are seconds (fractions allowed); options are whole milliseconds. */
export function secondsToMs(value: unknown): unknown {
  return typeof value === 'number' ? Math.round(value * 1000) : value;
}

/** Kong's declarative configurations write unset fields as `null`. */
export function isPresent(value: unknown): boolean {
  return value !== undefined && value !== null;
}

function valueAt(root: Readonly<Record<string, unknown>>, path: string): unknown {
  let node: unknown = root;
  for (const name of path.split('.')) {
    if (!isPlainObject(node)) return undefined;
    node = node[name];
  }
  return node;
}

function parentOf(path: string): string {
  const dot = path.lastIndexOf('.');
  return dot === -1 ? '' : path.slice(0, dot);
}

function nameOf(path: string): string {
  return path.slice(path.lastIndexOf('.') + 1);
}

function optionsOf(row: KongFieldRow<never>): readonly string[] {
  if (row.option === undefined) return [];
  return typeof row.option === 'string' ? [row.option] : row.option;
}

/** Sets `path` (dotted) in `target`, creating the objects on the way. */
function setOptionPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const names = path.split('.');
  let node = target;
  for (const name of names.slice(0, -1)) {
    const next = node[name];
    if (isPlainObject(next)) node = next;
    else {
      const created: Record<string, unknown> = {};
      node[name] = created;
      node = created;
    }
  }
  node[names[names.length - 1] as string] = value;
}

/** A table of Kong fields, compiled: the names each level knows, the checks, the conversion, the naming. */
export class KongTable<C = unknown> {
  /** The rows, in the table's order. */
  readonly rows: readonly KongFieldRow<C>[];
  readonly #children = new Map<string, string[]>();

  constructor(rows: readonly KongFieldRow<C>[]) {
    this.rows = rows;
    for (const row of rows) {
      const parent = parentOf(row.kong);
      const names = this.#children.get(parent) ?? [];
      if (!names.includes(nameOf(row.kong))) names.push(nameOf(row.kong));
      this.#children.set(parent, names);
    }
  }

  /** The field names Kong's record at `path` (`''`: the block itself) accepts. */
  fieldsOf(path: string): readonly string[] {
    return this.#children.get(path) ?? [];
  }

  /**
   * Checks a block against Kong's schema: unknown fields (with the nearest known name), required fields, types
   * and limits. Problems name Kong's path, prefixed with `prefix` (e.g. `config.`).
   */
  check(prefix: string, block: Readonly<Record<string, unknown>>, problems: OptionProblems): void {
    this.#checkRecord(prefix, '', block, problems);
  }

  #checkRecord(prefix: string, path: string, record: Readonly<Record<string, unknown>>, problems: OptionProblems): void {
    refuseUnknownKeys(`${prefix}${path}`.replace(/\.$/, ''), record, this.fieldsOf(path), problems);
    for (const row of this.rows) {
      if (parentOf(row.kong) !== path) continue;
      const value = record[nameOf(row.kong)];
      const field = `${prefix}${row.kong}`;
      if (!isPresent(value)) {
        if (row.required) problems.add(field, 'is required');
        continue;
      }
      const ok = problems.check(() => {
        checkKongValue(field, value, row);
        return true;
      });
      if (ok && row.type === 'record' && row.check === undefined) this.#checkRecord(prefix, row.kong, value as Record<string, unknown>, problems);
    }
  }

  /**
   * The options a checked block becomes: each present field converted into its option, and Kong's defaults for
   * absent fields whose record is there. `undefined` values are left out.
   */
  convert(block: Readonly<Record<string, unknown>>, context: C, prefix: string, problems: OptionProblems): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const row of this.rows) {
      const options = optionsOf(row as KongFieldRow<never>);
      if (options.length === 0 || (row.when && !row.when(block))) continue;
      // A value Kong's check refused counts as absent: its consequences would only repeat the problem.
      let value = problems.has(`${prefix}${row.kong}`) ? undefined : valueAt(block, row.kong);
      if (!isPresent(value)) {
        if (row.default === undefined || !this.#recordExists(block, parentOf(row.kong))) continue;
        value = row.default;
      }
      const given = value;
      const converted = row.convert ? problems.check(() => row.convert?.(given, context, `${prefix}${row.kong}`)) : value;
      if (converted === undefined) continue;
      if (options.length === 1) setOptionPath(out, options[0] as string, converted);
      else for (const [i, option] of options.entries()) setOptionPath(out, option, (converted as unknown[])[i]);
    }
    return out;
  }

  #recordExists(block: Readonly<Record<string, unknown>>, path: string): boolean {
    if (path === '') return true;
    const row = this.rows.find((r) => r.kong === path);
    const present = isPresent(valueAt(block, path)) || row?.alwaysPresent === true;
    return present && this.#recordExists(block, parentOf(path));
  }

  /**
   * Kong's path of an option path (e.g. `brokers[0].port` → `bootstrap_servers[0].port`), or `undefined` when no
   * row becomes that option. `block` decides between rows that become the same option.
   */
  kongPathOf(option: string, block: Readonly<Record<string, unknown>>): string | undefined {
    let best: { kong: string; option: string } | undefined;
    for (const row of this.rows) {
      if (row.when && !row.when(block)) continue;
      for (const candidate of optionsOf(row as KongFieldRow<never>)) {
        const matches = option === candidate || option.startsWith(`${candidate}.`) || option.startsWith(`${candidate}[`);
        if (matches && (best === undefined || candidate.length > best.option.length)) best = { kong: row.kong, option: candidate };
      }
    }
    return best === undefined ? undefined : `${best.kong}${option.slice(best.option.length)}`;
  }

  /**
   * Renames the problems of an options check into Kong's paths (`prefix` before them), leaving out those about a
   * field Kong's own check already refused (one message per fault).
   */
  renameProblems(
    problems: readonly OptionProblem[],
    block: Readonly<Record<string, unknown>>,
    prefix: string,
    already: OptionProblems,
  ): OptionProblem[] {
    const renamed: OptionProblem[] = [];
    for (const problem of problems) {
      const kong = this.kongPathOf(problem.field, block);
      // Problems a nested Kong block reported (e.g. `schema_registry.confluent.ttl`) are named already.
      const top = problem.field.split(/[.[]/)[0] ?? '';
      const named = kong ?? (this.fieldsOf('').includes(top) ? problem.field : undefined);
      const field = named === undefined ? problem.field : `${prefix}${named}`;
      if (!already.has(field)) renamed.push({ field, problem: problem.problem });
    }
    return renamed;
  }
}

function checkKongValue(field: string, value: unknown, row: KongFieldRow<never>): void {
  if (row.check !== undefined) {
    row.check(field, value);
    return;
  }
  switch (row.type) {
    case 'string':
      if (row.secret) secret(field, value);
      else if (row.lenMin === 0) anyText(field, value, '');
      else text(field, value);
      break;
    case 'integer':
      integer(field, value, 0, row.between?.[0], row.between?.[1]);
      break;
    case 'number':
      finiteNumber(field, value, 0, row.between?.[0], row.between?.[1]);
      break;
    case 'boolean':
      flag(field, value, false);
      break;
    case 'map': {
      // Kong's map values are strings, non-empty like every Kong string.
      const problems = new OptionProblems();
      for (const [name, item] of Object.entries(object(field, value))) problems.check(() => text(`${field}.${name}`, item));
      problems.throwIfAny();
      break;
    }
    case 'record':
      object(field, value);
      break;
    case 'array':
      if (!Array.isArray(value)) throw new InvalidOptionError(field, `must be an array, got ${describeValue(value)}`);
      if (row.items === 'string') textList(field, value);
      break;
  }
  if (row.oneOf !== undefined) oneOf(field, value, row.oneOf, row.oneOf[0] as string | number);
  if (row.unsupported !== undefined && !isKongDefault(value, row.default)) refuse(field, `is not supported by kafka-log: ${row.unsupported}`);
}

function isKongDefault(value: unknown, kongDefault: unknown): boolean {
  if (Array.isArray(value)) return value.length === 0 || JSON.stringify(value) === JSON.stringify(kongDefault);
  if (isPlainObject(value)) return Object.keys(value).length === 0;
  return value === kongDefault;
}
