// OAUTHBEARER with a token provider of the user's, against the local broker's OAUTHBEARER listener (Kafka's
// unsecured validator: it takes unsigned JWTs with `sub` and `exp` and refuses expired ones), over every transport:
// delivery, a provider that fails and then recovers (the entries wait and are all delivered once), a token the
// broker refuses, and a provider that never answers.
import { beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { ErrorCodes, type KafkaLogError } from '../../src/errors.js';
import type { KafkaLogPublisherOptions } from '../../src/publisher/options.js';
import { KafkaLogPublisher } from '../../src/publisher/publisher.js';
import type { OAuthBearerToken } from '../../src/publisher/token-provider.js';
import { createTopics, readTopic, realisticEntry, uniqueTopic } from './publisher-support.js';
import { TRANSPORTS } from './transports.js';

const kafka = inject('kafka');
const sasl = [kafka.listeners.sasl];

/** An unsigned JWT (alg "none") for `sub`, expiring `lifetimeS` seconds from now (negative: already expired). */
function unsecuredJwt(sub: string, lifetimeS: number): string {
  const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  return `${b64({ alg: 'none' })}.${b64({ sub, iat: now, exp: now + lifetimeS })}.`;
}

function token(lifetimeS = 3600): OAuthBearerToken {
  return { value: unsecuredJwt('admin', lifetimeS), lifetimeMs: lifetimeS * 1000, principal: 'admin' };
}

/** Every line and event the publisher gives, as text. */
function everythingSaid(publisher: KafkaLogPublisher): string[] {
  const said: string[] = [];
  publisher.on('publisher.log', (e) => said.push(`${e.message} ${JSON.stringify(e.extra ?? {})}`));
  publisher.on('publisher.retry', (e) => said.push(`${e.error.message} ${e.error.stack}`));
  publisher.on('publisher.delivery_failure', (e) => said.push(`${e.error.message} ${e.error.stack}`));
  publisher.on('publisher.drop', (e) => said.push(`${e.error?.message} ${e.error?.stack}`));
  return said;
}

describe.each(TRANSPORTS)('OAUTHBEARER token provider over %s', (transport) => {
  let topic: string;

  beforeAll(async () => {
    topic = uniqueTopic(`token-provider-${transport}`);
    await createTopics(kafka.brokers, [topic]);
  });

  function publisher(provider: () => Promise<OAuthBearerToken>, options: Partial<KafkaLogPublisherOptions> = {}) {
    return new KafkaLogPublisher({
      transport,
      brokers: sasl,
      topic,
      logger: false,
      logLevel: 'debug',
      authentication: { mechanism: 'OAUTHBEARER', oauthBearer: { provider } },
      ...options,
    });
  }

  it('connects with the provider\'s token and delivers; the token is asked for once while it is valid', async () => {
    let calls = 0;
    const issued = token();
    const p = publisher(async () => {
      calls += 1;
      return issued;
    });
    const said = everythingSaid(p);
    await p.connect();
    for (let i = 0; i < 3; i++) p.publish(realisticEntry(i));
    await p.flush();
    await p.close();
    expect(p.stats()).toMatchObject({ accepted: 3, sent: 3, dropped: { total: 0 } });
    expect(calls).toBe(1);
    expect(said.join('\n')).toContain('OAUTHBEARER token from the token provider for principal "admin", valid for 3600 s');
    expect(said.join('\n')).not.toContain(issued.value);
  });

  it('a provider that fails and then recovers: the entries wait, the failures are reported, all are delivered once', async () => {
    const failTopic = uniqueTopic(`token-provider-recover-${transport}`);
    await createTopics(kafka.brokers, [failTopic]);
    let failing = true;
    let failures = 0;
    let issued: OAuthBearerToken | undefined;
    const p = publisher(
      async () => {
        if (failing) {
          failures += 1;
          throw new Error('identity provider unavailable');
        }
        issued = token();
        return issued;
      },
      { topic: failTopic, flushTimeout: 0, initialRetryDelay: 50, maxRetryDelay: 200, maxRetryTime: 120_000 },
    );
    const said = everythingSaid(p);
    const retries: KafkaLogError[] = [];
    p.on('publisher.retry', (e) => retries.push(e.error));
    const ids = [101, 102, 103, 104, 105];
    for (const id of ids) p.publish(realisticEntry(id));
    await vi.waitFor(() => expect(retries.length).toBeGreaterThanOrEqual(3), { timeout: 30_000, interval: 50 });
    expect(failures).toBeGreaterThanOrEqual(3);
    expect(retries.every((e) => e.code === ErrorCodes.AUTHENTICATION && e.retriable)).toBe(true);
    expect(retries[0]?.message).toContain('the OAUTHBEARER token provider failed: Error: identity provider unavailable');
    expect(p.stats()).toMatchObject({ accepted: 5, sent: 0, dropped: { total: 0 } });
    expect(said.join('\n')).toMatch(/cannot reach Kafka at .*the OAUTHBEARER token provider failed/);
    failing = false;
    await p.flush();
    await p.close();
    expect(p.stats()).toMatchObject({ accepted: 5, sent: 5, dropped: { total: 0 }, buffered: 0, inFlight: 0 });
    expect(p.stats().retried).toBeGreaterThanOrEqual(retries.length);
    const messages = await readTopic({ brokers: kafka.brokers }, failTopic, 5, { settleMs: 500 });
    const received = messages.map((m) => (JSON.parse(m.value) as { started_at: number }).started_at % 1000).sort((a, b) => a - b);
    expect(received).toEqual(ids);
    expect(said.join('\n')).toMatch(/is reachable again after/);
    expect(said.join('\n')).not.toContain(issued?.value ?? '<none>');
  });

  it('a token the broker refuses (expired) is a non-retriable authentication error without the token; the next attempt asks again', async () => {
    let calls = 0;
    const expired = { value: unsecuredJwt('admin', -600), lifetimeMs: 3_600_000 };
    const p = publisher(async () => {
      calls += 1;
      return expired;
    });
    const first = (await p.connect().catch((e: unknown) => e)) as KafkaLogError;
    expect(first).toMatchObject({ code: ErrorCodes.AUTHENTICATION, retriable: false });
    expect(first.message).toBe('the broker refused the OAUTHBEARER token (invalid_token)');
    expect(`${first.message} ${first.stack}`).not.toContain(expired.value);
    await p.connect().catch(() => undefined);
    await p.close();
    expect(calls).toBe(2);
  });

  it('a provider that never answers: connect() fails at the timeout with a retriable authentication error', async () => {
    let calls = 0;
    const p = publisher(
      () => {
        calls += 1;
        return new Promise<OAuthBearerToken>(() => undefined);
      },
      { timeout: 1000 },
    );
    const started = Date.now();
    const error = (await p.connect().catch((e: unknown) => e)) as KafkaLogError;
    expect(Date.now() - started).toBeLessThan(6000);
    expect(error).toMatchObject({ code: ErrorCodes.AUTHENTICATION, retriable: true });
    expect(error.message).toContain('the OAUTHBEARER token provider gave no token within 1000 ms');
    await p.close();
    expect(calls).toBe(1);
  });
});
