#!/usr/bin/env node
/**
 * The `kafka-log` command: `tail` a topic of log entries, `check-config` a Kong declarative config, `replay` a
 * publisher's spool.
 *
 * @module
 */
import { CHECK_CONFIG_HELP, runCheckConfig } from './check-config.js';
import { type CliIo, ExitCode, UsageError } from './io.js';
import { REPLAY_HELP, runReplay } from './replay.js';
import { runTail, TAIL_HELP } from './tail.js';
import { escapeControls, printableError } from './terminal-text.js';
import { packageVersion } from './version.js';

/** `kafka-log --help`. */
export const MAIN_HELP = `Usage: kafka-log <command> [options]

Commands:
  tail           print the log entries of a topic, one line each (filters, --json, --from-beginning)
  check-config   validate the kafka-log plugins of a Kong declarative config (YAML or JSON)
  replay         publish a publisher's spool directory to Kafka (resumable; files removed once acknowledged)

Options:
  -h, --help     help (also: kafka-log <command> --help)
  -v, --version  the kafka-log version`;

const COMMANDS: Record<string, { run: (argv: readonly string[], io: CliIo) => Promise<number>; help: string }> = {
  tail: { run: runTail, help: TAIL_HELP },
  'check-config': { run: runCheckConfig, help: CHECK_CONFIG_HELP },
  replay: { run: runReplay, help: REPLAY_HELP },
};

/** Runs the command line `argv` (without `node` and the script); resolves to the exit code. */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined || first === '-h' || first === '--help' || first === 'help') {
    const topic = first === 'help' ? rest[0] : undefined;
    const command = topic === undefined ? undefined : COMMANDS[topic];
    io.stdout.write(`${command ? command.help : MAIN_HELP}\n`);
    return first === undefined ? ExitCode.USAGE : ExitCode.OK;
  }
  if (first === '-v' || first === '--version') {
    io.stdout.write(`${packageVersion()}\n`);
    return ExitCode.OK;
  }
  const command = COMMANDS[first];
  if (!command) {
    io.stderr.write(`kafka-log: unknown command "${escapeControls(first)}"\n\n${MAIN_HELP}\n`);
    return ExitCode.USAGE;
  }
  try {
    return await command.run(rest, io);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.stderr.write(`kafka-log ${first}: ${printableError(error)}\n\n${command.help}\n`);
    return ExitCode.USAGE;
  }
}

// Run only as the program itself (the built `dist/cli.js`), not when imported by tests.
if (typeof require !== 'undefined' && require.main === module) {
  // `kafka-log tail | head` closes the pipe: that is a normal end, not a crash.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(ExitCode.OK);
    throw error;
  });
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  main(process.argv.slice(2), {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    signal: controller.signal,
  }).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`kafka-log: ${printableError(error, undefined, { stack: true })}\n`);
      process.exitCode = ExitCode.ERROR;
    },
  );
}
