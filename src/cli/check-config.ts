/**
 * `kafka-log check-config FILE`: validates every `kafka-log` plugin of a Kong declarative config (YAML or
 * JSON), or a single plugin config, with `fromKongConfig`, and prints the options kafka-log would use (secrets
 * masked) or the errors naming Kong's fields.
 *
 * @module
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { InvalidOptionError } from '../errors.js';
import { fromKongConfig } from '../publisher/kong-config.js';
import { type FlagSpec, booleanFlag, parseFlags } from './args.js';
import { type CliIo, ExitCode, UsageError } from './io.js';
import { certificatesOf, findKafkaLogPlugins } from './kong-plugins.js';
import { maskSecrets, maskText } from './mask.js';
import { escapeControls, printableError, terminalJson } from './terminal-text.js';

/** `kafka-log check-config --help`. */
export const CHECK_CONFIG_HELP = `Usage: kafka-log check-config [--json] FILE

Reads a Kong declarative config (YAML or JSON), or a file holding one kafka-log plugin (or just its config),
validates every plugin named kafka-log as kafka-log's fromKongConfig would, and prints the options it would use
(secrets masked) or the errors, each naming the Kong field. Exit code 1 when any plugin is invalid or none is found.

  --json        print a JSON report instead
  -h, --help    this help`;

const FLAGS: FlagSpec = { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } };

/** The check of one plugin. */
export interface PluginCheck {
  /** Where the plugin is in the file. */
  location: string;
  /** The entities it sits under. */
  owner?: string;
  /** Whether `fromKongConfig` accepted it. */
  valid: boolean;
  /** The options kafka-log would use, secrets masked (when valid). */
  options?: unknown;
  /** The Kong field at fault (when invalid). */
  field?: string;
  /** The error (when invalid). */
  error?: string;
}

function readDocument(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new Error(`cannot read ${file}: ${error instanceof Error ? error.message : String(error)}`);
  }
  try {
    // JSON is YAML too, but JSON.parse names the position of a JSON syntax error better.
    return /\.json$/i.test(file) ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    throw new Error(`${file} is not valid ${/\.json$/i.test(file) ? 'JSON' : 'YAML'}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** Checks every kafka-log plugin of a parsed document. */
export function checkDocument(document: unknown): PluginCheck[] {
  const certificates = certificatesOf(document);
  return findKafkaLogPlugins(document).map(({ location, owner, plugin }) => {
    const where = { location, ...(owner ? { owner } : {}) };
    try {
      const options = fromKongConfig(plugin, { certificates });
      return { ...where, valid: true, options: maskSecrets(options) };
    } catch (error) {
      // A message may quote a value of the file (option checks echo short scalars): masked like the options.
      if (error instanceof InvalidOptionError) return { ...where, valid: false, field: error.field, error: maskText(error.message) };
      return { ...where, valid: false, error: maskText(error instanceof Error ? error.message : String(error)) };
    }
  });
}

function printText(checks: PluginCheck[], io: CliIo): void {
  for (const check of checks) {
    // Names and values come from the file: control characters in them are shown escaped, never sent to the terminal.
    const title = escapeControls(`${check.location}${check.owner ? ` (${check.owner})` : ''}`);
    if (check.valid) {
      io.stdout.write(`OK    ${title}\n`);
      io.stdout.write(`${terminalJson(check.options, 2).replace(/^/gm, '      ')}\n`);
    } else {
      io.stdout.write(`ERROR ${title}\n      ${escapeControls(check.error ?? '')}\n`);
    }
  }
  const bad = checks.filter((c) => !c.valid).length;
  io.stdout.write(`${checks.length} kafka-log plugin${checks.length === 1 ? '' : 's'} checked, ${bad} invalid\n`);
}

/** Runs `kafka-log check-config`; resolves to the exit code. Throws {@link UsageError} for bad flags. */
export async function runCheckConfig(argv: readonly string[], io: CliIo): Promise<number> {
  const args = parseFlags(argv, FLAGS, true);
  if (booleanFlag(args, 'help')) {
    io.stdout.write(`${CHECK_CONFIG_HELP}\n`);
    return ExitCode.OK;
  }
  if (args.positionals.length !== 1) throw new UsageError('check-config takes exactly one FILE');
  const file = args.positionals[0] as string;
  let checks: PluginCheck[];
  try {
    checks = checkDocument(readDocument(file));
  } catch (error) {
    io.stderr.write(`kafka-log check-config: ${printableError(error)}\n`);
    return ExitCode.ERROR;
  }
  if (checks.length === 0) {
    io.stderr.write(`kafka-log check-config: no plugin named kafka-log in ${escapeControls(file)}\n`);
    return ExitCode.ERROR;
  }
  if (booleanFlag(args, 'json')) io.stdout.write(`${terminalJson({ file, plugins: checks }, 2)}\n`);
  else printText(checks, io);
  return checks.every((c) => c.valid) ? ExitCode.OK : ExitCode.ERROR;
}
