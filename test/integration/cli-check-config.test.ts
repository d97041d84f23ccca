// `kafka-log check-config`, `--help` and `--version` as a user runs them: the built CLI as a child process.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './cli-support.js';

const fixture = (name: string) => join(__dirname, '..', 'fixtures', 'cli', name);

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
