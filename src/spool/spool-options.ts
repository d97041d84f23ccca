/**
 * The publisher's `spool` option: where entries that would be dropped for a full buffer, an exhausted retry time or
 * the close deadline are kept on local disk instead, and how much of it they may take.
 *
 * @module
 */
import * as path from 'node:path';
import { type OptionRule, checkOptions, customOption, fieldPath, flagOption, integerOption, refuse, text } from '../options/check.js';

/** The local spool (see the README's "Spool and replay"). */
export interface SpoolOptions {
  /** The directory of the spool files (created when missing); one publisher per directory. */
  directory: string;
  /**
   * Most bytes of spool files in the directory (a hard cap: past it entries are dropped with their reason, as
   * without a spool). Default 1073741824 (1 GiB).
   */
  maxBytes?: number;
  /** A spool file is sealed and a new one started at this size. Default 16777216 (16 MiB). */
  maxFileBytes?: number;
  /**
   * Replay the spool in the background once Kafka answers again (one request at a time, when no live request
   * waits). Default `false`: replay with `kafka-log replay DIR`.
   */
  replay?: boolean;
}

/** The spool option after validation, defaults applied (`directory` made absolute). */
export interface ResolvedSpoolOptions {
  /** Absolute directory. */
  directory: string;
  /** See {@link SpoolOptions.maxBytes}. */
  maxBytes: number;
  /** See {@link SpoolOptions.maxFileBytes}. */
  maxFileBytes: number;
  /** See {@link SpoolOptions.replay}. */
  replay: boolean;
}

/** The spool's options: how each is checked and its default. */
export const SPOOL_OPTIONS = {
  directory: customOption((field, value) => (value === undefined ? refuse(field, 'is required') : text(field, value))),
  maxBytes: integerOption(1_073_741_824, 4096),
  maxFileBytes: integerOption(16_777_216, 4096),
  replay: flagOption(false),
} satisfies { readonly [K in keyof Required<SpoolOptions>]: OptionRule<unknown> };

/** Checks the `spool` option; `undefined` when absent. */
export function resolveSpoolOptions(field: string, value: unknown): ResolvedSpoolOptions | undefined {
  if (value === undefined) return undefined;
  const checked = checkOptions(field, value, SPOOL_OPTIONS);
  if (checked.maxFileBytes > checked.maxBytes) refuse(fieldPath(field, 'maxFileBytes'), `must not exceed maxBytes (${checked.maxBytes})`);
  return { directory: path.resolve(checked.directory), maxBytes: checked.maxBytes, maxFileBytes: checked.maxFileBytes, replay: checked.replay };
}
