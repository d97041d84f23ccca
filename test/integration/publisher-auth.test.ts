import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ErrorCodes, KafkaLogError } from '../../src/errors.js';
import type { KafkaLogPublisherOptions } from '../../src/publisher/publisher-options.js';
import { KafkaLogPublisher } from '../../src/publisher/publisher.js';
import { createTopics, readTopic, realisticEntry, uniqueTopic } from './publisher-support.js';
import { TRANSPORTS } from './transports.js';

const kafka = inject('kafka');
const sasl = [kafka.listeners.sasl];
const ssl = [kafka.listeners.ssl];
const pem = (file: string) => readFileSync(file, 'utf8');
/**
 * A delegation token created with Kafka's own tool (as the admin super user), once for every transport: the tool is
 * a JVM start of several seconds, and one token may authenticate any number of clients.
 */
let delegationToken: Promise<{ tokenId: string; hmac: string }> | undefined;
function sharedDelegationToken(): Promise<{ tokenId: string; hmac: string }> {
  delegationToken ??= createDelegationToken();
  return delegationToken;
}

async function createDelegationToken(): Promise<{ tokenId: string; hmac: string }> {
  const { kafkaClasspath } = await import('../../scripts/local-kafka.mjs');
  const classpath = await kafkaClasspath({ log: false });
  const dir = mkdtempSync(path.join(tmpdir(), 'kafka-log-dt-'));
  const props = path.join(dir, 'admin.properties');
  writeFileSync(
    props,
    [
      'security.protocol=SASL_PLAINTEXT',
      'sasl.mechanism=SCRAM-SHA-256',
      'sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="admin-secret";',
    ].join('\n'),
  );
  const { stdout } = await promisify(execFile)(
    'java',
    ['-cp', classpath, 'org.apache.kafka.tools.DelegationTokenCommand', '--bootstrap-server', kafka.listeners.sasl,
      '--create', '--max-life-time-period', '-1', '--command-config', props],
    { timeout: 60_000 },
  );
  const row = stdout.split('\n').find((line) => /^\S+\s+\S+==?\s+User:/.test(line) || /^\S+\s+\S+\s+User:admin/.test(line));
  const [tokenId, hmac] = (row ?? '').trim().split(/\s+/);
  if (!tokenId || !hmac) throw new Error(`no token in: ${stdout}`);
  return { tokenId, hmac };
}

describe.each(TRANSPORTS)('authentication and TLS over %s', (transport) => {
  let topic: string;

  beforeAll(async () => {
    topic = uniqueTopic(`pub-auth-${transport}`);
    await createTopics(kafka.brokers, [topic]);
  });

  /** Publishes one entry with `options` and closes; returns stats and what failed. */
  async function roundTrip(options: Omit<KafkaLogPublisherOptions, 'topic'>, id: number) {
    const publisher = new KafkaLogPublisher({ transport, topic, maxRetryTime: 0, ...options });
    const failures: KafkaLogError[] = [];
    publisher.on('publisher.delivery_failure', (e) => failures.push(e.error));
    await publisher.connect();
    publisher.publish(realisticEntry(id));
    await publisher.close();
    return { stats: publisher.stats(), failures };
  }

  describe('SASL', () => {
    it.each([
      ['PLAIN', kafka.users.plain],
      ['SCRAM-SHA-256', kafka.users.scram256],
      ['SCRAM-SHA-512', kafka.users.scram512],
    ] as const)('%s connects and delivers', async (mechanism, user) => {
      const { stats, failures } = await roundTrip(
        { brokers: sasl, authentication: { mechanism, username: user.username, password: user.password } },
        1,
      );
      expect(failures).toEqual([]);
      expect(stats.sent).toBe(1);
    });

    it('a wrong password gives a typed authentication error without the password', async () => {
      const password = 'definitely-wrong-pw';
      const publisher = new KafkaLogPublisher({
        transport,
        brokers: sasl,
        topic,
        authentication: { mechanism: 'SCRAM-SHA-256', username: kafka.users.scram256.username, password },
      });
      const logs: string[] = [];
      publisher.on('publisher.log', (e) => logs.push(e.message + JSON.stringify(e.extra ?? {})));
      const error = await publisher.connect().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(KafkaLogError);
      expect((error as KafkaLogError).code).toBe(ErrorCodes.AUTHENTICATION);
      expect((error as KafkaLogError).retriable).toBe(false);
      expect((error as Error).message).not.toContain(password);
      // on the publish path the entry is a counted non-retriable drop, never a throw
      publisher.publish(realisticEntry(2));
      await publisher.flush();
      expect(publisher.stats().dropped.byReason.non_retriable).toBe(1);
      await publisher.close();
      expect(logs.join('\n')).not.toContain(password);
    });

    describe('OAUTHBEARER with a local token endpoint', () => {
      let server: http.Server;
      let url: string;
      const requests: URLSearchParams[] = [];
      beforeAll(async () => {
        server = http.createServer((req, res) => {
          let body = '';
          req.on('data', (c) => {
            body += c;
          });
          req.on('end', () => {
            const form = new URLSearchParams(body);
            requests.push(form);
            if (form.get('grant_type') !== 'client_credentials' || form.get('client_secret') !== 'oauth-secret') {
              res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"invalid_client"}');
              return;
            }
            const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
            const now = Math.floor(Date.now() / 1000);
            const jwt = `${b64({ alg: 'none' })}.${b64({ sub: form.get('client_id'), iat: now, exp: now + 3600, scope: form.get('scope') })}.`;
            res.writeHead(200, { 'content-type': 'application/json' });
            res.end(JSON.stringify({ access_token: jwt, token_type: 'Bearer', expires_in: 3600 }));
          });
        });
        await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
        url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/token`;
      });
      afterAll(() => new Promise<void>((r) => server.close(() => r())));

      it('fetches a client-credentials token once and delivers', async () => {
        const before = requests.length;
        const { stats, failures } = await roundTrip(
          {
            brokers: sasl,
            authentication: {
              mechanism: 'OAUTHBEARER',
              oauthBearer: { tokenEndpointUrl: url, clientId: 'kafka-log', clientSecret: 'oauth-secret', scopes: ['kafka', 'logs'] },
            },
          },
          3,
        );
        expect(failures).toEqual([]);
        expect(stats.sent).toBe(1);
        // One token for every connection the client opened (bootstrap and partition leader): fetched once, cached.
        const fetched = requests.slice(before);
        expect(fetched).toHaveLength(1);
        expect(fetched[0]?.get('grant_type')).toBe('client_credentials');
        expect(fetched[0]?.get('scope')).toBe('kafka logs');
        expect(fetched[0]?.get('client_id')).toBe('kafka-log');
      });

      it('a refused client secret is an authentication error', async () => {
        const publisher = new KafkaLogPublisher({
          transport,
          brokers: sasl,
          topic,
          authentication: {
            mechanism: 'OAUTHBEARER',
            oauthBearer: { tokenEndpointUrl: url, clientId: 'kafka-log', clientSecret: 'wrong-oauth-secret' },
          },
        });
        const error = (await publisher.connect().catch((e: unknown) => e)) as KafkaLogError;
        await publisher.close();
        expect(error.code).toBe(ErrorCodes.AUTHENTICATION);
        expect(error.message).not.toContain('wrong-oauth-secret');
      });
    });
  });

  /**
   * A new token reaches the broker's token cache through the metadata log, a moment after the tool returns: wait
   * (bounded) until the broker accepts it, so the test checks the client, not that propagation.
   */
  async function untilTokenAccepted(tokenId: string, hmac: string): Promise<void> {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const probe = new KafkaLogPublisher({
        transport,
        brokers: sasl,
        topic,
        authentication: { mechanism: 'SCRAM-SHA-256', username: tokenId, password: hmac, tokenAuth: true },
      });
      const error = await probe.connect().then(
        () => undefined,
        (e: unknown) => e,
      );
      await probe.close();
      if (error === undefined) return;
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }

  describe('delegation tokens (SCRAM with tokenauth=true)', () => {
    it('authenticates with a token, and the extension is what makes the broker look the token up', async () => {
      const { tokenId, hmac } = await sharedDelegationToken();
      await untilTokenAccepted(tokenId, hmac);
      const { stats, failures } = await roundTrip(
        { brokers: sasl, authentication: { mechanism: 'SCRAM-SHA-256', username: tokenId, password: hmac, tokenAuth: true } },
        6,
      );
      expect(failures).toEqual([]);
      expect(stats.sent).toBe(1);
      // the same credentials without the extension are an unknown SCRAM user
      const plain = new KafkaLogPublisher({
        transport,
        brokers: sasl,
        topic,
        authentication: { mechanism: 'SCRAM-SHA-256', username: tokenId, password: hmac },
      });
      const error = (await plain.connect().catch((e: unknown) => e)) as KafkaLogError;
      await plain.close();
      expect(error.code).toBe(ErrorCodes.AUTHENTICATION);
    });
  });

  describe('TLS', () => {
    it('verifies the broker with the trusted CA and delivers', async () => {
      const { stats, failures } = await roundTrip({ brokers: ssl, tls: { ca: pem(kafka.tls.ca) } }, 4);
      expect(failures).toEqual([]);
      expect(stats.sent).toBe(1);
    });

    it('refuses a broker whose certificate the given CA does not sign', async () => {
      const publisher = new KafkaLogPublisher({ transport, brokers: ssl, topic, tls: { ca: pem(kafka.tls.untrustedCa) } });
      const error = (await publisher.connect().catch((e: unknown) => e)) as KafkaLogError;
      await publisher.close();
      expect(error).toBeInstanceOf(KafkaLogError);
      expect(error.code).toBe(ErrorCodes.AUTHENTICATION);
      expect(error.retriable).toBe(false);
    });

    it('mTLS: presents the client certificate', async () => {
      const { stats } = await roundTrip(
        { brokers: ssl, tls: { verify: true, ca: pem(kafka.tls.ca), cert: pem(kafka.tls.clientCert), key: pem(kafka.tls.clientKey) } },
        5,
      );
      expect(stats.sent).toBe(1);
    });

    it('everything published over the secured listeners arrived', async () => {
      const messages = await readTopic({ brokers: kafka.brokers }, topic, 7);
      const ids = messages.map((m) => (JSON.parse(m.value) as { started_at: number }).started_at % 1000).sort();
      expect(ids).toEqual([1, 1, 1, 3, 4, 5, 6]);
    });
  });
});
