// Secrets against the real broker, on both transports: wrong SASL passwords and a refused OAUTHBEARER client secret
// (from a token endpoint that echoes the request back) never show in anything the publisher emits, nor in the
// stack of an error read the moment it leaves the transport or the token provider (errors are built clean, not
// edited afterwards), nor in anything a process running the built package prints: the same refusals in a child
// process whose whole stdout and stderr are read (the test runner replaces `console` in its own workers, so a
// dependency's console output can only be seen there); and redaction beyond the two
// default headers (more headers, query arguments, body fields by path) holds end to end, through the Express
// adapter and the broker, down to the message bytes a consumer reads.
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { inspect } from 'node:util';
import express from 'express';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { kafkaLog } from '../../src/adapters/express.js';
import { buildLogEntry } from '../../src/entry/build.js';
import { PublisherEvents } from '../../src/publisher/events.js';
import type { KafkaLogPublisherOptions } from '../../src/publisher/publisher-options.js';
import { KafkaLogPublisher } from '../../src/publisher/publisher.js';
import { exchangeFixture } from '../../src/testing/exchange-fixture.js';
import { spyingTransport } from '../support/spying-transport.js';
import { runNode } from './cli-support.js';
import { createTopics, readTopic, uniqueTopic } from './publisher-support.js';
import { TRANSPORTS, type TransportName } from './transports.js';

const kafka = inject('kafka');
const ROOT = join(__dirname, '..', '..');
const secret = (name: string) => `${name}-S3cr3t+/=&-${Math.random().toString(36).slice(2, 10)}`;

/**
 * Everything a publisher emits, as text: events, logger lines at debug, errors with stack and causes, stats; and
 * every error as it leaves the transport or the token provider, its stack read there first.
 */
async function captureFailingPublisher(transport: TransportName, options: KafkaLogPublisherOptions): Promise<{ text: string; codes: string[]; early: number }> {
  const texts: string[] = [];
  const add = (label: string, value: unknown) => {
    texts.push(`${label}: ${inspect(value, { depth: 30, showHidden: true, getters: true })}`);
    for (let e = value as Error | undefined, i = 0; e instanceof Error && i < 10; e = e.cause as Error | undefined, i++) {
      texts.push(`${label}: ${e.message}\n${e.stack ?? ''}`);
    }
  };
  const codes: string[] = [];
  let early = 0;
  const spied = spyingTransport(transport, (where, error) => {
    early += 1;
    add(`${where} rejected`, error);
  });
  const logger = Object.fromEntries(['error', 'warn', 'info', 'debug'].map((level) => [level, (...args: unknown[]) => add(`logger.${level}`, args)]));
  const publisher = new KafkaLogPublisher({
    ...options,
    transport: spied,
    logger: logger as unknown as KafkaLogPublisherOptions['logger'],
    logLevel: 'debug',
    maxRetryTime: 0,
  });
  for (const name of Object.values(PublisherEvents)) publisher.on(name, (event) => add(`event ${name}`, event));
  await publisher.connect().catch((error: { code?: string }) => {
    codes.push(String(error.code));
    add('connect rejected', error);
  });
  publisher.publish(buildLogEntry(exchangeFixture()));
  await publisher.flush();
  await publisher.close({ timeoutMs: 2000 });
  add('stats', JSON.stringify(publisher.stats()));
  return { text: texts.join('\n'), codes, early };
}

describe.each(TRANSPORTS)('credentials refused by the real broker (%s)', (transport) => {
  it.each([
    ['PLAIN', kafka.users.plain.username],
    ['SCRAM-SHA-256', kafka.users.scram256.username],
    ['SCRAM-SHA-512', kafka.users.scram512.username],
  ] as const)('%s with a wrong password: an AUTHENTICATION error, and the password nowhere in what is emitted', async (mechanism, username) => {
    const password = secret('wrong');
    const { text, codes, early } = await captureFailingPublisher(transport, {
      brokers: [kafka.listeners.sasl],
      topic: 'reliability-secrets',
      authentication: { mechanism, username, password },
    });
    expect(codes).toEqual(['KAFKA_LOG_ERR_AUTHENTICATION']);
    expect(early).toBeGreaterThan(0);
    expect(text).toContain('non_retriable'); // the publish was a counted drop
    for (const form of [password, encodeURIComponent(password), Buffer.from(`\0${username}\0${password}`).toString('base64')]) {
      expect(text.includes(form), `found ${form}`).toBe(false);
    }
  });

  it('OAUTHBEARER with a token endpoint that refuses and echoes the request: the client secret nowhere', async () => {
    const clientSecret = secret('oauth');
    const endpoint = await echoingTokenEndpoint();
    try {
      const tokenEndpointUrl = endpoint.url;
      const { text, codes, early } = await captureFailingPublisher(transport, {
        brokers: [kafka.listeners.sasl],
        topic: 'reliability-secrets',
        authentication: { mechanism: 'OAUTHBEARER', oauthBearer: { tokenEndpointUrl, clientId: 'svc', clientSecret } },
      });
      expect(endpoint.asked()).toBeGreaterThan(0);
      expect(codes).toEqual(['KAFKA_LOG_ERR_AUTHENTICATION']);
      // The publisher fetches the token before the Kafka client needs it: the refusal leaves kafka-log as the
      // rejection of connect() (and the drop), read here as early as any caller could.
      expect(early).toBe(0);
      expect(text).toMatch(/connect rejected: .*OAuth token endpoint at http:\/\/127\.0\.0\.1:\d+\/token answered 401 \(invalid_client\)/);
      for (const form of [clientSecret, encodeURIComponent(clientSecret), new URLSearchParams({ s: clientSecret }).toString().slice(2)]) {
        expect(text.includes(form), `found ${form}`).toBe(false);
      }
    } finally {
      await endpoint.close();
    }
  });
});

/** A token endpoint that refuses every request and echoes it back, in a header and in its error description. */
async function echoingTokenEndpoint(): Promise<{ url: string; asked(): number; close(): Promise<void> }> {
  let asked = 0;
  const endpoint = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      asked += 1;
      res.writeHead(401, { 'content-type': 'application/json', 'x-echo': encodeURIComponent(body) });
      res.end(JSON.stringify({ error: 'invalid_client', error_description: `bad credentials in ${body}` }));
    });
  });
  await new Promise<void>((r) => endpoint.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(endpoint.address() as AddressInfo).port}/token`,
    asked: () => asked,
    close: () => new Promise<void>((r) => endpoint.close(() => r())),
  };
}

/** The forms a secret could take in output: raw, URL-encoded, form-encoded, JSON-escaped, and inside SASL PLAIN bytes. */
function secretForms(secret: string, username?: string): string[] {
  const forms = [secret, encodeURIComponent(secret), new URLSearchParams({ s: secret }).toString().slice(2), JSON.stringify(secret).slice(1, -1)];
  if (username !== undefined) forms.push(Buffer.from(`\0${username}\0${secret}`).toString('base64'));
  return forms;
}

describe.each(TRANSPORTS)('credentials refused, in a child process running the built package (%s): nothing it prints holds them', (transport) => {
  it('wrong SASL passwords (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512) and a refused OAuth client secret: stdout and stderr hold none', async () => {
    const endpoint = await echoingTokenEndpoint();
    try {
      const users = { PLAIN: kafka.users.plain.username, 'SCRAM-SHA-256': kafka.users.scram256.username, 'SCRAM-SHA-512': kafka.users.scram512.username };
      const passwords = Object.fromEntries(Object.keys(users).map((m) => [m, secret('wrong')]));
      const clientSecret = secret('oauth');
      const base = { transport, brokers: [kafka.listeners.sasl], topic: 'reliability-secrets' };
      const scenarios = [
        ...Object.entries(users).map(([mechanism, username]) => ({
          name: mechanism,
          options: { ...base, authentication: { mechanism, username, password: passwords[mechanism] } },
        })),
        {
          name: 'OAUTHBEARER',
          options: { ...base, authentication: { mechanism: 'OAUTHBEARER', oauthBearer: { tokenEndpointUrl: endpoint.url, clientId: 'svc', clientSecret } } },
        },
      ];
      const child = await runNode(
        [join(ROOT, 'test/fixtures/secrets/refused-publisher-child.cjs'), join(ROOT, 'dist/index.js'), join(ROOT, 'dist/testing.js'), JSON.stringify(scenarios)],
        { timeoutMs: 60_000 },
      );
      const printed = `${child.stdout}\n${child.stderr}`;
      expect(child.code, child.stderr).toBe(0); // exits by itself, nothing thrown into the process
      const outcomes = JSON.parse(child.stdout.split('\n').find((line) => line.startsWith('OUTCOMES ')
      )?.slice('OUTCOMES '.length) ?? '{}') as Record<string, { code: string; nonRetriable: number }>;
      const refused = { code: 'KAFKA_LOG_ERR_AUTHENTICATION', nonRetriable: 1 };
      expect(outcomes).toEqual({ PLAIN: refused, 'SCRAM-SHA-256': refused, 'SCRAM-SHA-512': refused, OAUTHBEARER: refused });
      expect(endpoint.asked()).toBeGreaterThan(0);
      // What was printed is the real thing: the refusals, their stacks and the debug log, not an empty capture.
      expect(printed).toContain('connect rejected');
      expect(printed).toMatch(/\n\s+at /);
      for (const [mechanism, username] of Object.entries(users)) {
        for (const form of secretForms(passwords[mechanism] as string, username)) expect(printed.includes(form), `${mechanism}: found ${form}`).toBe(false);
      }
      for (const form of secretForms(clientSecret)) expect(printed.includes(form), `OAUTHBEARER: found ${form}`).toBe(false);
    } finally {
      await endpoint.close();
    }
  });
});

describe('redaction beyond the default headers, end to end through Express and the broker', () => {
  let topic: string;
  let server: http.Server;
  let publisher: KafkaLogPublisher;
  let base: string;
  beforeAll(async () => {
    topic = uniqueTopic('reliability-redaction');
    await createTopics(kafka.brokers, [topic]);
    publisher = new KafkaLogPublisher({ brokers: kafka.brokers, topic, flushTimeout: 10 });
    const app = express();
    app.use(
      kafkaLog({
        sink: publisher,
        logRequestBody: true,
        logResponseBody: true,
        redactHeaders: ['authorization', 'x-api-key', 'cookie', 'set-cookie'],
        redactQueryArgs: ['token', 'api_key'],
        redactBodyFields: ['password', 'card.number', 'session'],
      }),
    );
    app.use(express.json());
    app.use(express.urlencoded({ extended: false }));
    app.post('/login', (_req, res) => {
      res.cookie('sid', 'SETCOOKIE-SECRET-1').json({ ok: true, session: 'RESPONSE-SESSION-SECRET' });
    });
    server = http.createServer(app);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await publisher.close();
    await new Promise<void>((r) => server.close(() => r()));
  });

  it('headers, query arguments and body fields by path are replaced before the entry leaves the process', async () => {
    const secrets = [
      'BEARER-SECRET-1',
      'APIKEY-SECRET-1',
      'COOKIE-SECRET-1',
      'QUERY-TOKEN-SECRET',
      'QUERY-APIKEY-SECRET',
      'BODY-PASSWORD-SECRET',
      '4111111111111111',
      'FORM-PASSWORD-SECRET',
      'SETCOOKIE-SECRET-1',
      'RESPONSE-SESSION-SECRET',
    ];
    const headers = { authorization: 'Bearer BEARER-SECRET-1', 'x-api-key': 'APIKEY-SECRET-1', cookie: 'sid=COOKIE-SECRET-1' };
    const json = await fetch(`${base}/login?token=QUERY-TOKEN-SECRET&api_key=QUERY-APIKEY-SECRET&page=2`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json' },
      body: JSON.stringify({ user: 'ada', password: 'BODY-PASSWORD-SECRET', card: { number: '4111111111111111', brand: 'visa' } }),
    });
    await json.text();
    const form = await fetch(`${base}/login?token=QUERY-TOKEN-SECRET`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'user=ada&password=FORM-PASSWORD-SECRET',
    });
    await form.text();
    await publisher.flush();

    const messages = await readTopic({ brokers: kafka.brokers }, topic, 2, { timeoutMs: 30_000 });
    expect(messages).toHaveLength(2);
    const bytes = messages.map((m) => m.value).join('\n');
    for (const s of secrets) expect(bytes.includes(s), `found ${s}`).toBe(false);
    const [first, second] = messages.map((m) => JSON.parse(m.value));
    expect(first.request.headers).toMatchObject({ authorization: 'REDACTED', 'x-api-key': 'REDACTED', cookie: 'REDACTED' });
    expect(first.request.querystring).toEqual({ token: 'REDACTED', api_key: 'REDACTED', page: '2' });
    expect(first.request.body_args).toEqual({ user: 'ada', password: 'REDACTED', card: { number: 'REDACTED', brand: 'visa' } });
    expect(first.response.headers['set-cookie']).toBe('REDACTED');
    expect(first.response.body_args).toMatchObject({ ok: true, session: 'REDACTED' });
    expect(second.request.body_args).toEqual({ user: 'ada', password: 'REDACTED' });
  });
});
