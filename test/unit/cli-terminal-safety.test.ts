// What the CLI prints is safe for a terminal and free of secrets: control characters from topic data shown as
// visible escapes (text) or \u escapes (JSON, still the same value), options masked by pattern, credentials in
// URLs, quoted headers and error messages masked.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCheckConfig } from '../../src/cli/check-config.js';
import { main } from '../../src/cli/main.js';
import { MASK, isSecretKey, maskSecrets, maskText } from '../../src/cli/mask.js';
import { formatEntryLine } from '../../src/cli/tail-format.js';
import { escapeControls, printableError, terminalJson } from '../../src/cli/terminal-text.js';
import { SecretSet } from '../../src/secrets.js';
import { captureIo } from '../support/cli-io.js';

// Every character a terminal may act on: C0 (ESC, CR, LF, BEL, NUL, TAB, ...), DEL, C1 (CSI is U+009B).
// biome-ignore lint/suspicious/noControlCharactersInRegex: looking for control characters is the test.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const EVERY_CONTROL = [...Array.from({ length: 0x20 }, (_, i) => i), 0x7f, ...Array.from({ length: 0x20 }, (_, i) => 0x80 + i)]
  .map((c) => String.fromCharCode(c))
  .join('');


describe('control characters', () => {
  it('escapeControls shows every C0, DEL and C1 character as \\xNN and keeps valid Unicode and backslashes as they are', () => {
    expect(escapeControls('\u001b[2J\u001b]0;owned\u0007\rGET\u009b31m\u007f\u0000\t\n')).toBe(
      '\\x1b[2J\\x1b]0;owned\\x07\\x0dGET\\x9b31m\\x7f\\x00\\x09\\x0a',
    );
    const text = 'café 日本 🎉 مرحبا C:\\path a\u00a0b \u2028';
    expect(escapeControls(text)).toBe(text);
    expect(CONTROL.test(escapeControls(EVERY_CONTROL))).toBe(false);
    expect(escapeControls('a\nb\rc', { keepNewlines: true })).toBe('a\nb\\x0dc');
  });

  it('a tail line of hostile topic data holds no control character: method, uri, client ip and a string status', () => {
    const hostile = {
      started_at: Date.UTC(2024, 4, 1),
      request: { method: 'GET\u001b[31m', uri: `/x\r${EVERY_CONTROL}/é` },
      response: { status: '200\u001b]8;;http://evil\u0007' },
      latencies: { request: 3 },
      client_ip: '10.0.0.1\u0008\u0008\u0008\u0008evil',
    };
    for (const color of [false, true]) {
      const line = formatEntryLine(hostile, color);
      // biome-ignore lint/suspicious/noControlCharactersInRegex: looking for control characters is the test.
      const withoutOurColors = line.replace(/\u001b\[(0|2|3[1-6])m/g, '');
      expect(CONTROL.test(withoutOurColors)).toBe(false);
      expect(line).toContain('GET\\x1b[31m');
      expect(line).toContain('/x\\x0d\\x00\\x01');
      expect(line).toContain('\\x9f/é');
      expect(line).toContain('10.0.0.1\\x08\\x08\\x08\\x08evil');
    }
  });

  it('terminalJson is the same JSON value with C0, DEL, C1 and U+2028/U+2029 escaped', () => {
    const value = { all: EVERY_CONTROL, separators: 'a\u2028b\u2029c', unicode: 'café 日本 🎉', lone: '\ud800', nested: [{ x: '\u009b' }] };
    for (const indent of [undefined, 2]) {
      const json = terminalJson(value, indent);
      expect(JSON.parse(json)).toEqual(value);
      expect(CONTROL.test(indent === undefined ? json : json.replace(/\n/g, ''))).toBe(false);
      expect(json).not.toMatch(/[\u2028\u2029]/);
      expect(json).toContain('\\u2028');
      expect(json).toContain('\\u009b');
      expect(json).toContain('café 日本 🎉');
    }
  });

  it('error messages for stderr: the command\'s secrets removed, URL credentials masked, controls escaped', () => {
    const secrets = new SecretSet().add('env-Pa55word');
    const error = new Error('broker said: bad env-Pa55word for https://u:p4ss@reg.test/x \u001b[2K');
    expect(printableError(error, secrets)).toBe('broker said: bad [REDACTED] for https://u:***@reg.test/x \\x1b[2K');
    expect(printableError(error, undefined, { stack: true })).toMatch(/^Error: broker said: bad env-Pa55word for https:\/\/u:\*\*\*@reg.test\/x \\x1b\[2K\n {4}at /);
  });

  it('main escapes what it echoes of the command line', async () => {
    const io = captureIo();
    expect(await main(['\u001b[2Jtail'], io)).toBe(2);
    expect(io.err()).toContain('unknown command "\\x1b[2Jtail"');
    const registry = captureIo();
    expect(await main(['tail', '--brokers', 'h:1', '--topic', 't', '--registry', 'ftp://u:s3cret@reg'], registry)).toBe(2);
    expect(registry.err()).toContain('--registry must be an http(s) URL, got "ftp://u:***@reg"');
    expect(registry.err()).not.toContain('s3cret');
  });
});

describe('masking by pattern', () => {
  it('decides by key: secrets by name, not the keys that only say where or which', () => {
    const secret = ['password', 'Password', 'client_secret', 'clientSecret', 'secret', 'token', 'access_token', 'refreshToken', 'credentials', 'key', 'apiKey', 'api_key', 'private_key', 'ssl-key', 'authorization', 'Cookie', 'sasl_password', 'passphrase'];
    const notSecret = ['keyQueryArg', 'key_query_arg', 'keySchema', 'key_schema', 'tokenEndpointUrl', 'token_endpoint', 'tokenEndpointTlsVerify', 'tokenAuth', 'clientId', 'client_id', 'username', 'user', 'topic', 'mechanism', 'redactHeaders', 'secret_name', 'password_file', 'token_type', 'grant_type', 'monkeyId'];
    for (const key of secret) expect([key, isSecretKey(key)]).toEqual([key, true]);
    for (const key of notSecret) expect([key, isSecretKey(key)]).toEqual([key, false]);
  });

  it('masks secret values, header maps, SASL extensions, URL userinfo, credential values; keeps booleans and names', () => {
    const options = {
      keyQueryArg: 'tenant',
      key_query_arg: 'tenant',
      keySchema: { subject: 'kong-key', version: 'latest' },
      authentication: {
        mechanism: 'OAUTHBEARER',
        username: 'svc',
        password: 'pw-1',
        tokenAuth: true,
        oauthBearer: {
          tokenEndpointUrl: 'https://client:idp-pass@idp.test/token?client_secret=q-secret&scope=x',
          clientId: 'c',
          clientSecret: 'cs-1',
          extensions: { logicalCluster: 'lkc-secretish', identityPoolId: 'pool-9' },
        },
      },
      messageHeaders: { 'x-api-key': 'hk-1', 'x-trace': 'trace-1' },
      message_headers: { authorization: 'Bearer hb-1' },
      schemaRegistry: { url: 'http://sr-user:sr-pass@sr.test:8081', auth: { mode: 'basic', username: 'u', password: 'sr-pw' } },
      upstreamAuth: 'Basic dXNlcjpzZWNyZXQ=',
      redactHeaders: ['authorization', 'x-api-key'],
      credentials: { user: 'a', pass: 'b' },
      ca: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n',
      tls: { key: '-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----\n', verify: false },
      selectTopic: () => 't',
    };
    const masked = maskSecrets(options);
    const at = (value: unknown, path: string) => path.split('.').reduce((v, name) => (v as Record<string, unknown>)[name], value);
    const expected: Record<string, unknown> = {
      'authentication.password': MASK,
      'authentication.oauthBearer.clientSecret': MASK,
      'authentication.oauthBearer.extensions': { logicalCluster: MASK, identityPoolId: MASK },
      'authentication.oauthBearer.tokenEndpointUrl': 'https://client:***@idp.test/token?client_secret=***&scope=x',
      messageHeaders: { 'x-api-key': MASK, 'x-trace': MASK },
      message_headers: { authorization: MASK },
      'schemaRegistry.url': 'http://sr-user:***@sr.test:8081',
      'schemaRegistry.auth.password': MASK,
      upstreamAuth: 'Basic ***',
      credentials: { user: MASK, pass: MASK },
      ca: '<PEM, 59 characters>',
      'tls.key': MASK,
      selectTopic: '<function>',
    };
    for (const [path, value] of Object.entries(expected)) expect([path, at(masked, path)]).toEqual([path, value]);
    // Everything else prints as given: names, ids, switches, the query argument naming the key, the key schema.
    const kept = ['keyQueryArg', 'key_query_arg', 'keySchema', 'authentication.mechanism', 'authentication.username', 'authentication.tokenAuth'];
    kept.push('authentication.oauthBearer.clientId', 'schemaRegistry.auth.mode', 'schemaRegistry.auth.username', 'redactHeaders', 'tls.verify');
    for (const path of kept) expect([path, at(masked, path)]).toEqual([path, at(options, path)]);
  });

  it('maskText masks credentials inside messages and keeps ordinary text', () => {
    expect(maskText('at https://u:p@h:1/x?access_token=abc&page=2 and http://plain.test/a?b=c')).toBe(
      'at https://u:***@h:1/x?access_token=***&page=2 and http://plain.test/a?b=c',
    );
    expect(maskText('{"authorization":"Bearer abc.def","password":"x y","user":"u"}')).toBe('{"authorization":"Bearer ***","password":"***","user":"u"}');
    expect(maskText("  12 |   password: hunter2\n  13 |   key_query_arg: tenant")).toBe("  12 |   password: ***\n  13 |   key_query_arg: tenant");
    const ordinary = 'OAuth token endpoint at https://idp.test/token answered 401 (invalid_client); invalid option "authentication.password": must be a string';
    expect(maskText(ordinary)).toBe(ordinary);
  });
});

describe('check-config output', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kafka-log-mask-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const PLUGIN_HEAD = ['plugins:', '  - name: kafka-log', '    config:', '      bootstrap_servers: [{ host: kafka.test, port: 9092 }]'];

  /** Writes `lines` as a config file and runs check-config on it in text and in JSON; each output holds no control character. */
  async function checkBothWays(name: string, lines: string[]): Promise<Array<{ json: boolean; code: number; out: string }>> {
    const file = join(dir, name);
    writeFileSync(file, lines.join('\n'));
    const runs = [];
    for (const json of [false, true]) {
      const io = captureIo();
      const code = await runCheckConfig(json ? ['--json', file] : [file], io);
      const out = io.out() + io.err();
      expect(CONTROL.test(out.replace(/\n/g, ''))).toBe(false);
      runs.push({ json, code, out });
    }
    return runs;
  }

  it('prints no secret of an OAUTHBEARER plugin (client secret, extensions, URL userinfo) in text or JSON, and escapes controls', async () => {
    const runs = await checkBothWays('kong.yaml', [
      ...PLUGIN_HEAD,
      '      topic: "logs\\e[2J"',
      '      key_query_arg: tenant',
      '      authentication:',
      '        strategy: sasl',
      '        mechanism: OAUTHBEARER',
      '        oauthbearer:',
      '          token_endpoint_url: "https://idp-user:IDP-URL-SECRET@idp.test/token"',
      '          client_id: kafka-log',
      '          client_secret: CLIENT-SECRET-1',
      '          extensions: { logicalCluster: EXT-SECRET-1 }',
      '      schema_registry:',
      '        confluent:',
      '          url: http://sr.test:8081',
      '          authentication: { mode: basic, basic: { username: sr-user, password: SR-SECRET-1 } }',
      '          value_schema: { subject_name: kong-value }',
    ]);
    for (const { code, out } of runs) {
      expect(code).toBe(0);
      for (const secret of ['IDP-URL-SECRET', 'CLIENT-SECRET-1', 'EXT-SECRET-1', 'SR-SECRET-1']) expect(out).not.toContain(secret);
      expect(out).toContain('tenant');
      expect(out).toContain('idp-user:***@idp.test');
      expect(out).toContain('"topic": "logs\\u001b[2J"');
    }
  });

  it('an invalid plugin: the error printed with its controls escaped, the password not echoed', async () => {
    const runs = await checkBothWays('bad.yaml', [
      ...PLUGIN_HEAD,
      '      topic: logs',
      '      compression_type: "zip\\e[2J"',
      '      authentication: { strategy: sasl, mechanism: PLAIN, user: u, password: PLAIN-SECRET-1 }',
      'services:',
      '  - name: "orders\\e]0;owned\\a"',
      '    plugins: [{ name: kafka-log, config: { topic: t } }]',
    ]);
    for (const { json, code, out } of runs) {
      expect(code).toBe(1);
      expect(out).toContain('config.compression_type');
      expect(out).toContain(json ? 'service \\"orders\\u001b]0;owned\\u0007\\"' : 'service "orders\\x1b]0;owned\\x07"');
      expect(out).not.toContain('PLAIN-SECRET-1');
    }
  });
});
