/**
 * `kafka-log check-config FILE`: validates every `kafka-log` plugin of a Kong declarative config (YAML or
 * JSON), or a single plugin config, as the library would (`fromKongConfig`, and `compileCustomFields` for its
 * custom fields), and prints the options kafka-log would use (secrets masked) or every error naming Kong's field.
 *
 * @module
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { compileCustomFields } from '../entry/custom-fields/custom-fields.js';
import { InvalidOptionError, type OptionProblem } from '../errors.js';
import { isPlainObject } from '../options/check.js';
import { javascriptRewrite, luaHint, luaSigns, readsKongPdk } from '../options/lua-hint.js';
import { fromKongConfig } from '../publisher/kong-plugin-config.js';
import type { KafkaLogPublisherOptions } from '../publisher/publisher-options.js';
import type { VaultOptions } from '../publisher/vault-references.js';
import { type FlagSpec, booleanFlag, parseFlags } from './args.js';
import { type CliIo, ExitCode, UsageError } from './io.js';
import { certificatesOf, findKafkaLogPlugins } from './kong-plugins.js';
import { maskSecrets, maskText, maskValuesOf } from './mask.js';
import { escapeControls, printableError, terminalJson } from './terminal-text.js';

/** `kafka-log check-config --help`. */
export const CHECK_CONFIG_HELP = `Usage: kafka-log check-config [--json] FILE

Reads a Kong declarative config (YAML or JSON), or a file holding one kafka-log plugin (or just its config),
validates every plugin named kafka-log as kafka-log would (fromKongConfig: Kong's schema and limits, then the
options; custom_fields_by_lua compiled as the adapters do, JavaScript, not Lua), and prints the options it would
use (secrets masked) or every error, each naming the Kong field. Vault references {vault://env/NAME} in the
credential fields are resolved from the environment (Kong's naming: NAME upper-cased, - as _) and masked.
Exit code 1 when any plugin is invalid or none is found.

  --json        print a JSON report instead
  -h, --help    this help`;

const FLAGS: FlagSpec = { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } };

/** The check of one plugin. */
interface PluginCheck {
  /** Where the plugin is in the file. */
  location: string;
  /** The entities it sits under. */
  owner?: string;
  /** Whether kafka-log would accept it (`fromKongConfig`, and its custom fields compiled as the adapters do). */
  valid: boolean;
  /** The options kafka-log would use, secrets masked (when valid). */
  options?: unknown;
  /** The Kong field of the first problem (when invalid). */
  field?: string;
  /** Every problem, one message each (when invalid). */
  error?: string;
  /** Every problem: Kong's field and what is wrong (when invalid). */
  problems?: OptionProblem[];
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

/** The plugin's `config` (the plugin object's, or the bare config), and the prefix Kong's paths take in it. */
function configOf(plugin: unknown): { config: unknown; prefix: string } {
  return isPlainObject(plugin) && isPlainObject(plugin.config) ? { config: plugin.config, prefix: 'config.' } : { config: plugin, prefix: '' };
}

/**
 * Compiles each `custom_fields_by_lua` value as the adapters do (`compileCustomFields`), one by one so every bad
 * value is named; a value that reads like Lua (even one that compiles, such as a `kong.` call that would fail on
 * every request) gets a hint saying what to write instead.
 */
function customFieldProblems(plugin: unknown): OptionProblem[] {
  const { config, prefix } = configOf(plugin);
  const fields = isPlainObject(config) ? config.custom_fields_by_lua : undefined;
  if (!isPlainObject(fields)) return [];
  const problems: OptionProblem[] = [];
  for (const [key, value] of Object.entries(fields)) {
    if (typeof value !== 'string' || value === '') continue; // refused by fromKongConfig already
    const field = `${prefix}custom_fields_by_lua.${key}`;
    const compileProblem = compileProblemOf(key, value);
    const signs = luaSigns(value);
    // A value that compiles is flagged only when it reads Kong's PDK: `kong` and `ngx` do not exist here.
    if (signs.length > 0 && (compileProblem !== undefined || readsKongPdk(value))) {
      const rewrite = javascriptRewrite(value);
      const hint = luaHint(signs, rewrite !== undefined && compileProblemOf(key, rewrite) === undefined ? rewrite : undefined);
      problems.push({ field, problem: compileProblem === undefined ? hint : `${compileProblem}; ${hint}` });
    } else if (compileProblem !== undefined) {
      problems.push({ field, problem: compileProblem });
    }
  }
  return problems;
}

function compileProblemOf(key: string, expression: string): string | undefined {
  try {
    compileCustomFields({ [key]: expression });
    return undefined;
  } catch (error) {
    if (error instanceof InvalidOptionError) return error.problem;
    throw error;
  }
}

/**
 * Checks every kafka-log plugin of a parsed document, reporting every problem of each; vault references are
 * resolved with `vault` (default: the `env` vault on `process.env`).
 */
export function checkDocument(document: unknown, vault: VaultOptions = {}): PluginCheck[] {
  const certificates = certificatesOf(document);
  return findKafkaLogPlugins(document).map(({ location, owner, plugin }) => {
    const where = { location, ...(owner ? { owner } : {}) };
    const problems: OptionProblem[] = [];
    let options: KafkaLogPublisherOptions | undefined;
    try {
      options = fromKongConfig(plugin, { certificates, vault });
    } catch (error) {
      if (!(error instanceof InvalidOptionError)) {
        return { ...where, valid: false, error: maskText(error instanceof Error ? error.message : String(error)) };
      }
      problems.push(...error.problems);
    }
    problems.push(...customFieldProblems(plugin).filter((p) => !problems.some((known) => known.field === p.field)));
    // A value a vault reference resolved to is masked wherever it shows (a user name, too).
    if (problems.length === 0) return { ...where, valid: true, options: maskValuesOf(maskSecrets(options), options?.secrets ?? []) };
    // A message may quote a value of the file (option checks echo short scalars): masked like the options.
    const masked = problems.map(({ field, problem }) => ({ field, problem: maskText(problem) }));
    return { ...where, valid: false, field: masked[0]?.field, error: InvalidOptionError.of(masked).message, problems: masked };
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
      io.stdout.write(`ERROR ${title}\n`);
      const lines = check.problems?.map(({ field, problem }) => `invalid option "${field}": ${problem}`) ?? [check.error ?? ''];
      for (const line of lines) io.stdout.write(`      ${escapeControls(line)}\n`);
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
  const json = booleanFlag(args, 'json');
  const fail = (message: string, plugins?: PluginCheck[]): number => {
    io.stderr.write(`kafka-log check-config: ${message}\n`);
    if (json) io.stdout.write(`${terminalJson({ file, ...(plugins ? { plugins } : {}), error: message }, 2)}\n`);
    return ExitCode.ERROR;
  };
  let checks: PluginCheck[];
  try {
    checks = checkDocument(readDocument(file));
  } catch (error) {
    return fail(printableError(error));
  }
  if (checks.length === 0) return fail(`no plugin named kafka-log in ${escapeControls(file)}`, checks);
  if (json) io.stdout.write(`${terminalJson({ file, plugins: checks }, 2)}\n`);
  else printText(checks, io);
  return checks.every((c) => c.valid) ? ExitCode.OK : ExitCode.ERROR;
}
