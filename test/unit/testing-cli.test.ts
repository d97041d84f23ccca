import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { checkDocument, runCheckConfig } from '../../src/cli/check-config.js';
import { connectionFromFlags, parseBrokers } from '../../src/cli/connection.js';
import { parseFlags } from '../../src/cli/args.js';
import { DecodeError, decodeEntries, isWireFormat } from '../../src/cli/decode.js';
import { UsageError } from '../../src/cli/io.js';
import { findKafkaLogPlugins } from '../../src/cli/kong-plugins.js';
import { main } from '../../src/cli/main.js';
import { MASK, maskSecrets } from '../../src/cli/mask.js';
import { compileEntryFilter, compileStatusFilter } from '../../src/cli/tail-filter.js';
import { formatEntryLine, useColor } from '../../src/cli/tail-format.js';
import { buildLogEntry } from '../../src/entry/build.js';
import { exchangeFixture } from '../../src/testing/index.js';

import { captureIo } from '../support/cli-io.js';

const fixture = (name: string) => join(__dirname, '..', 'fixtures', 'cli', name);


describe('tail filters', () => {
  it.each([
    ['5xx', [500, 503], [499, 200]],
    ['404', [404], [403, 405]],
    ['>=400', [400, 599], [399]],
    ['<300', [200, 299], [300]],
    ['>500', [501], [500]],
    ['<=404', [404, 200], [405]],
    ['404, 5xx', [404, 502], [400]],
  ])('status %s', (spec, yes, no) => {
    const test = compileStatusFilter(spec);
    for (const s of yes) expect(test(s)).toBe(true);
    for (const s of no) expect(test(s)).toBe(false);
  });

  it.each(['6xx', 'abc', '40', '=>400', ''])('refuses status spec %j', (spec) => {
    expect(() => compileStatusFilter(spec)).toThrow(UsageError);
  });

  it('combines status, method, route and latency', () => {
    const entry = buildLogEntry(exchangeFixture({ response: { status: 503 }, timings: { total: 250 } }));
    expect(compileEntryFilter({})(entry)).toBe(true);
    expect(compileEntryFilter({ status: '5xx', method: 'get,post', route: '/orders/:id', minLatency: 250 })(entry)).toBe(true);
    expect(compileEntryFilter({ method: 'POST' })(entry)).toBe(false);
    expect(compileEntryFilter({ route: '/users/:id' })(entry)).toBe(false);
    expect(compileEntryFilter({ minLatency: 251 })(entry)).toBe(false);
    expect(compileEntryFilter({ route: 'orders-read' })({ route: { name: 'orders-read' } })).toBe(true);
    expect(compileEntryFilter({ route: '/orders' })({ route: { paths: ['/orders'] } })).toBe(true);
    expect(compileEntryFilter({ status: '5xx' })({ nothing: true })).toBe(false);
  });
});

describe('tail line format', () => {
  const entry = buildLogEntry(exchangeFixture());
  it('prints time, method, status, latency, uri and client ip', () => {
    expect(formatEntryLine(entry, false)).toBe('2024-05-01T12:00:00.000Z GET 200 12ms /orders/42?expand=items 10.1.2.3');
  });
  it('colors the status class only when asked', () => {
    const line = formatEntryLine(buildLogEntry(exchangeFixture({ response: { status: 502 } })), true);
    expect(line).toContain('\u001b[31m502\u001b[0m');
  });
  it('prints - for what is missing', () => {
    expect(formatEntryLine({}, false)).toBe('- - - - - -');
  });
  it('colors on a TTY unless NO_COLOR or TERM=dumb', () => {
    expect(useColor(true, {})).toBe(true);
    expect(useColor(false, {})).toBe(false);
    expect(useColor(true, { NO_COLOR: '1' })).toBe(false);
    expect(useColor(true, { TERM: 'dumb' })).toBe(false);
    expect(useColor(false, { FORCE_COLOR: '1' })).toBe(true);
  });
});

describe('decodeEntries', () => {
  it('unrolls batch arrays and skips tombstones', async () => {
    expect(await decodeEntries(Buffer.from('[{"a":1},{"a":2}]'), undefined)).toEqual([{ a: 1 }, { a: 2 }]);
    expect(await decodeEntries(Buffer.from('{"a":1}'), undefined)).toEqual([{ a: 1 }]);
    expect(await decodeEntries(null, undefined)).toEqual([]);
  });
  it('asks for --registry on wire-format values, and decodes them through a registry', async () => {
    const framed = Buffer.from([0, 0, 0, 0, 7, 1, 2, 3]);
    expect(isWireFormat(framed)).toBe(true);
    await expect(decodeEntries(framed, undefined)).rejects.toThrow(/schema id 7\): pass --registry/);
    const registry = { decode: async (v: Buffer) => ({ decodedFrom: v.readInt32BE(1) }) };
    expect(await decodeEntries(framed, registry)).toEqual([{ decodedFrom: 7 }]);
    const failing = { decode: async () => Promise.reject(new Error('schema 7 not found')) };
    await expect(decodeEntries(framed, failing)).rejects.toThrow('schema 7 not found');
  });
  it('reports values that are neither', async () => {
    await expect(decodeEntries(Buffer.from('not json'), undefined)).rejects.toBeInstanceOf(DecodeError);
  });
});

describe('connection flags', () => {
  const flags = (argv: string[]) =>
    parseFlags(argv, {
      brokers: { type: 'string' },
      'sasl-mechanism': { type: 'string' },
      username: { type: 'string' },
      tls: { type: 'boolean' },
      ca: { type: 'string' },
      'tls-no-verify': { type: 'boolean' },
      'connect-timeout': { type: 'string' },
    }, false);

  it('parses brokers and refuses what is not host:port', () => {
    expect(parseBrokers('a:1, b:2')).toEqual(['a:1', 'b:2']);
    expect(() => parseBrokers('a')).toThrow(UsageError);
    expect(() => parseBrokers('a:99999')).toThrow(UsageError);
    expect(() => parseBrokers(undefined)).toThrow(/--brokers is required/);
  });

  it('takes the SASL password from KAFKA_LOG_PASSWORD only', () => {
    const args = flags(['--brokers', 'a:1', '--sasl-mechanism', 'scram-sha-512', '--username', 'u']);
    expect(connectionFromFlags(args, { KAFKA_LOG_PASSWORD: 'pw' }).sasl).toEqual({
      mechanism: 'SCRAM-SHA-512',
      username: 'u',
      password: 'pw',
    });
    expect(() => connectionFromFlags(args, {})).toThrow(/KAFKA_LOG_PASSWORD/);
    expect(() => connectionFromFlags(flags(['--brokers', 'a:1', '--username', 'u']), {})).toThrow(/--sasl-mechanism/);
    expect(() => connectionFromFlags(flags(['--brokers', 'a:1', '--sasl-mechanism', 'GSSAPI', '--username', 'u']), {})).toThrow(
      UsageError,
    );
  });

  it('reads the CA file for TLS', () => {
    const ca = fixture('kong-valid.yaml');
    const config = connectionFromFlags(flags(['--brokers', 'a:1', '--ca', ca]), {});
    expect(config.tls).toEqual({ rejectUnauthorized: true, ca: readFileSync(ca, 'utf8') });
    expect(connectionFromFlags(flags(['--brokers', 'a:1']), {}).tls).toBeUndefined();
    expect(() => connectionFromFlags(flags(['--brokers', 'a:1', '--ca', '/nonexistent.pem']), {})).toThrow(/--ca/);
  });
});

describe('check-config', () => {
  it('finds kafka-log plugins at every level, with where they are', () => {
    const doc = parseYaml(readFileSync(fixture('kong-valid.yaml'), 'utf8'));
    expect(findKafkaLogPlugins(doc).map((p) => [p.location, p.owner])).toEqual([
      ['plugins[0]', undefined],
      ['services[0].routes[0].plugins[0]', 'service "orders" > route "orders-read"'],
    ]);
    expect(findKafkaLogPlugins({ topic: 't', bootstrap_servers: [] })[0]?.location).toBe('(file)');
  });

  it('masks secrets, including the client key of certificate_id', () => {
    const [first] = checkDocument(parseYaml(readFileSync(fixture('kong-valid.yaml'), 'utf8')));
    expect(first?.valid).toBe(true);
    const options = first?.options as { authentication: { password: string }; tls: { key: string; cert: string } };
    expect(options.authentication.password).toBe(MASK);
    expect(options.tls.key).toBe(MASK);
    expect(options.tls.cert).toMatch(/^<PEM/);
    expect(JSON.stringify(first)).not.toContain('very-secret-password');
    expect(maskSecrets({ schema_registry: { basic: { password: 'p' } }, client_secret: 's' })).toEqual({
      schema_registry: { basic: { password: MASK } },
      client_secret: MASK,
    });
  });

  it('reports field-named errors and exits 1', async () => {
    const io = captureIo();
    expect(await runCheckConfig([fixture('kong-invalid.yaml')], io)).toBe(1);
    expect(io.out()).toContain('invalid option "config.compression_type"');
    expect(io.out()).toContain('invalid option "config.topic": is required');
    expect(io.out()).toContain('2 kafka-log plugins checked, 2 invalid');
  });

  it('prints a JSON report with --json', async () => {
    const io = captureIo();
    expect(await runCheckConfig(['--json', fixture('plugin.json')], io)).toBe(0);
    const report = JSON.parse(io.out()) as { plugins: Array<{ valid: boolean; options: { acks: number } }> };
    expect(report.plugins).toHaveLength(1);
    expect(report.plugins[0]?.options.acks).toBe(-1);
  });

  it('fails on a missing file, bad YAML and a file without kafka-log', async () => {
    let io = captureIo();
    expect(await runCheckConfig(['/nonexistent.yaml'], io)).toBe(1);
    expect(io.err()).toContain('cannot read /nonexistent.yaml');
    const dir = mkdtempSync(join(tmpdir(), 'kafka-log-cli-'));
    writeFileSync(join(dir, 'bad.yaml'), 'plugins:\n  - name: kafka-log\n   config: [');
    io = captureIo();
    expect(await runCheckConfig([join(dir, 'bad.yaml')], io)).toBe(1);
    expect(io.err()).toContain('is not valid YAML');
    writeFileSync(join(dir, 'other.yaml'), '_format_version: "3.0"\nplugins:\n  - name: http-log\n');
    io = captureIo();
    expect(await runCheckConfig([join(dir, 'other.yaml')], io)).toBe(1);
    expect(io.err()).toContain('no plugin named kafka-log');
  });
});

describe('check-config: everything the library would refuse', () => {
  const kongFixture = (name: string) => join(__dirname, '..', 'fixtures', 'kong-config', name);

  it('compiles custom_fields_by_lua as the adapters do and says plainly that Lua is not run, and what to write', () => {
    const [check] = checkDocument(parseYaml(readFileSync(kongFixture('lua-custom-fields.yaml'), 'utf8')));
    expect(check?.valid).toBe(false);
    const problems = new Map(check?.problems?.map((p) => [p.field, p.problem]));
    expect([...problems.keys()]).toEqual([
      'config.custom_fields_by_lua.region',
      'config.custom_fields_by_lua.tenant',
      'config.custom_fields_by_lua.route.label',
      'config.custom_fields_by_lua.request.method_seen',
    ]);
    expect(problems.get('config.custom_fields_by_lua.region')).toBe(
      "the expression does not compile: SyntaxError: unexpected token in expression: 'return'; this looks like Lua (a leading `return`), which kafka-log does not run: values are JavaScript expressions; write \"'eu-west-1'\"",
    );
    expect(problems.get('config.custom_fields_by_lua.tenant')).toContain('write "entry.request.headers[\'x-tenant\']"');
    expect(problems.get('config.custom_fields_by_lua.route.label')).toContain('write "\'orders\' + \'-read\'"');
    // compiles as JavaScript, but `kong` does not exist where the expression runs: it would fail on every request
    expect(problems.get('config.custom_fields_by_lua.request.method_seen')).toBe(
      'this looks like Lua (`kong.`/`ngx.` calls), which kafka-log does not run: values are JavaScript expressions; write "entry.request.method"',
    );
    const [rewritten] = checkDocument(parseYaml(readFileSync(kongFixture('javascript-custom-fields.yaml'), 'utf8')));
    expect(rewritten?.valid).toBe(true);
  });

  it('names a value that is neither JavaScript nor recognisably Lua by its compile error alone', () => {
    const [check] = checkDocument({ topic: 't', bootstrap_servers: [{ host: 'h', port: 1 }], custom_fields_by_lua: { a: 'entry.(' } });
    expect(check?.problems).toEqual([{ field: 'custom_fields_by_lua.a', problem: "the expression does not compile: SyntaxError: expecting field name" }]);
  });

  it('reports every error of a plugin: typos with the nearest field, missing required fields, Kong\'s limits', async () => {
    const io = captureIo();
    expect(await runCheckConfig([kongFixture('many-mistakes.yaml')], io)).toBe(1);
    expect(io.out()).toBe(
      [
        'ERROR services[0].plugins[0] (service "orders")',
        '      invalid option "config.topik": unknown option; did you mean "topic"?',
        '      invalid option "config.bootstrap_servers[0].port": is required',
        '      invalid option "config.topic": is required',
        '      invalid option "config.producer_request_acks": must be one of -1, 0, 1, got 2',
        '      invalid option "config.queue.max_batch_size": must be an integer from 1 to 1000000, got 0',
        '      invalid option "config.queue.max_coalescing_delay": must be a number from 0 to 3600, got 7200',
        '      invalid option "config.queue.concurrency_limit": must be one of 1, -1, got 4',
        '      invalid option "config.schema_registry.confluent.urll": unknown option; did you mean "url"?',
        '      invalid option "config.schema_registry.confluent.url": is required',
        '1 kafka-log plugin checked, 1 invalid',
        '',
      ].join('\n'),
    );
  });

  it('ends every --json report with a newline, failures included', async () => {
    for (const args of [
      ['--json', fixture('plugin.json')],
      ['--json', kongFixture('many-mistakes.yaml')],
      ['--json', '/nonexistent.yaml'],
    ]) {
      const io = captureIo();
      await runCheckConfig(args, io);
      expect(io.out().endsWith('}\n'), args.join(' ')).toBe(true);
      expect(() => JSON.parse(io.out())).not.toThrow();
    }
    const io = captureIo();
    expect(await runCheckConfig(['--json', kongFixture('many-mistakes.yaml')], io)).toBe(1);
    const report = JSON.parse(io.out()) as { plugins: Array<{ valid: boolean; field: string; problems: unknown[] }> };
    expect(report.plugins[0]).toMatchObject({ valid: false, field: 'config.topik' });
    expect(report.plugins[0]?.problems).toHaveLength(9);
  });
});

describe('main', () => {
  it('prints help and the version', async () => {
    let io = captureIo();
    expect(await main(['--help'], io)).toBe(0);
    expect(io.out()).toContain('Usage: kafka-log <command>');
    io = captureIo();
    expect(await main(['tail', '--help'], io)).toBe(0);
    expect(io.out()).toContain('--from-beginning');
    io = captureIo();
    expect(await main(['help', 'check-config'], io)).toBe(0);
    expect(io.out()).toContain('Usage: kafka-log check-config');
    io = captureIo();
    expect(await main(['--version'], io)).toBe(0);
    expect(io.out().trim()).toMatch(/^\d+\.\d+\.\d+|unknown/);
  });

  it('exits 2 with usage on bad commands and flags', async () => {
    let io = captureIo();
    expect(await main([], io)).toBe(2);
    io = captureIo();
    expect(await main(['frobnicate'], io)).toBe(2);
    expect(io.err()).toContain('unknown command "frobnicate"');
    io = captureIo();
    expect(await main(['tail', '--brokers', 'a:1'], io)).toBe(2);
    expect(io.err()).toContain('--topic is required');
    io = captureIo();
    expect(await main(['tail', '--brokers', 'a:1', '--topic', 't', '--status', '7xx'], io)).toBe(2);
    expect(io.err()).toContain('--status');
    io = captureIo();
    expect(await main(['tail', '--topic', 't', '--max', 'many', '--brokers', 'a:1'], io)).toBe(2);
    expect(io.err()).toContain('--max must be a non-negative integer');
    io = captureIo();
    expect(await main(['check-config'], io)).toBe(2);
    expect(io.err()).toContain('exactly one FILE');
    io = captureIo();
    expect(await main(['tail', '--password', 'x'], io)).toBe(2);
    expect(io.err()).toContain("Unknown option '--password'");
  });
});
