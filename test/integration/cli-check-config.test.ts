// `kafka-log check-config`, `--help` and `--version` as a user runs them: the built CLI as a child process.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './cli-support.js';

const fixture = (name: string) => join(__dirname, '..', 'fixtures', 'cli', name);
const kongFixture = (name: string) => join(__dirname, '..', 'fixtures', 'kong-config', name);

describe('kafka-log check-config', () => {
  it('prints the options of every kafka-log plugin, secrets masked, and exits 0', async () => {
    const result = await runCli(['check-config', fixture('kong-valid.yaml')]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('OK    plugins[0]');
    expect(result.stdout).toContain('OK    services[0].routes[0].plugins[0] (service "orders" > route "orders-read")');
    expect(result.stdout).toContain('"maxCoalescingDelay": 500');
    expect(result.stdout).toContain('"password": "********"');
    expect(result.stdout).not.toContain('very-secret-password');
    expect(result.stdout).not.toContain('MIIBfakekey');
    expect(result.stdout).toContain('2 kafka-log plugins checked, 0 invalid');
  });

  it('names the Kong field of each error and exits 1', async () => {
    const result = await runCli(['check-config', fixture('kong-invalid.yaml')]);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('ERROR services[0].plugins[0] (service "orders")');
    expect(result.stdout).toContain('invalid option "config.compression_type"');
    expect(result.stdout).toContain('ERROR services[1].plugins[0] (service "billing")');
    expect(result.stdout).toContain('invalid option "config.topic": is required');
  });

  it('reads a single plugin in JSON', async () => {
    const result = await runCli(['check-config', '--json', fixture('plugin.json')]);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ plugins: [{ location: '(file)', valid: true, options: { acks: -1 } }] });
  });

  it('refuses Lua custom fields, naming each with what to write, as the library would at start-up', async () => {
    const result = await runCli(['check-config', kongFixture('lua-custom-fields.yaml')]);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(
      'invalid option "config.custom_fields_by_lua.region": the expression does not compile: SyntaxError: unexpected token in expression: \'return\'; this looks like Lua',
    );
    expect(result.stdout).toContain('write "\'eu-west-1\'"');
    expect(result.stdout).toContain('invalid option "config.custom_fields_by_lua.request.method_seen": this looks like Lua (`kong.`/`ngx.` calls)');
    expect((await runCli(['check-config', kongFixture('javascript-custom-fields.yaml')])).code).toBe(0);
  });

  it('lists every problem of a plugin, and ends its JSON report with a newline', async () => {
    const text = await runCli(['check-config', kongFixture('many-mistakes.yaml')]);
    expect(text.code).toBe(1);
    expect(text.stdout).toContain('invalid option "config.topik": unknown option; did you mean "topic"?');
    expect(text.stdout).toContain('invalid option "config.topic": is required');
    expect(text.stdout).toContain('invalid option "config.queue.concurrency_limit": must be one of 1, -1, got 4');
    const json = await runCli(['check-config', '--json', kongFixture('many-mistakes.yaml')]);
    expect(json.code).toBe(1);
    expect(json.stdout.endsWith('}\n')).toBe(true);
    expect((JSON.parse(json.stdout) as { plugins: Array<{ problems: unknown[] }> }).plugins[0]?.problems).toHaveLength(9);
  });

  it('exits 2 on bad usage, 0 on --help and --version', async () => {
    expect((await runCli(['check-config'])).code).toBe(2);
    expect((await runCli(['check-config', '--nope', 'x'])).code).toBe(2);
    const help = await runCli(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('check-config');
    expect((await runCli(['check-config', '--help'])).stdout).toContain('Usage: kafka-log check-config');
    const version = await runCli(['--version']);
    const pkg = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string };
    expect(version).toMatchObject({ code: 0, stdout: `${pkg.version}\n` });
  });
});
