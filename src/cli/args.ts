/**
 * Flag parsing on top of node's `util.parseArgs`, turning its errors and bad values into {@link UsageError}s.
 *
 * @module
 */
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { UsageError } from './io.js';

/** The option table of one command. */
export type FlagSpec = NonNullable<ParseArgsConfig['options']>;

/** Parsed flags and positionals. */
export interface ParsedArgs {
  /** Flag values by long name. */
  values: Record<string, string | boolean | string[] | boolean[] | undefined>;
  /** Positional arguments. */
  positionals: string[];
}

/** Parses `argv` strictly: unknown flags and missing values are usage errors. */
export function parseFlags(argv: readonly string[], options: FlagSpec, allowPositionals: boolean): ParsedArgs {
  try {
    const { values, positionals } = parseArgs({ args: [...argv], options, allowPositionals, strict: true });
    return { values: values as ParsedArgs['values'], positionals };
  } catch (error) {
    // parseArgs' messages already name the flag; drop its hint about `--` which does not help here.
    const message = error instanceof Error ? error.message.replace(/\. To specify a positional argument.*$/s, '') : String(error);
    throw new UsageError(message);
  }
}

/** A string flag's value, or `undefined`. */
export function stringFlag(args: ParsedArgs, name: string): string | undefined {
  const value = args.values[name];
  return typeof value === 'string' ? value : undefined;
}

/** A boolean flag's value. */
export function booleanFlag(args: ParsedArgs, name: string): boolean {
  return args.values[name] === true;
}

/** A non-negative integer flag, or `undefined`; anything else is a usage error naming the flag. */
export function integerFlag(args: ParsedArgs, name: string): number | undefined {
  const raw = stringFlag(args, name);
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw)) throw new UsageError(`--${name} must be a non-negative integer, got "${raw}"`);
  return Number(raw);
}
