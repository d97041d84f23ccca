// The option checks every options object shares: field-first checks with one message per fault, unknown keys
// refused with the nearest valid name (publisher, registry, entry builder, every adapter, Kong), broker strings,
// URLs without credentials, every problem reported at once, and the entry room's imports.
import 'reflect-metadata';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { kafkaLog as expressLog } from '../../src/adapters/express.js';
import { kafkaLog as fastifyLog } from '../../src/adapters/fastify.js';
import { withKafkaLog } from '../../src/adapters/http.js';
import { kafkaLog as koaLog } from '../../src/adapters/koa.js';
import { KafkaLogModule } from '../../src/adapters/nest.js';
import { createLogEntryBuilder } from '../../src/entry/build.js';
import { ErrorCodes, InvalidOptionError, type OptionProblem } from '../../src/errors.js';
import { hostPort, httpUrl, nearestName } from '../../src/options/check.js';
import { fromKongConfig } from '../../src/publisher/kong-plugin-config.js';
import { type KafkaLogPublisherOptions, resolvePublisherOptions } from '../../src/publisher/publisher-options.js';
import { resolveRegistryOptions } from '../../src/registry/registry-options.js';
import { buildTestEntry, exchangeFixture } from '../../src/testing/index.js';
import { recordingSink } from './adapters-support.js';

/** The problems of the InvalidOptionError `run` throws. */
function problemsOf(run: () => unknown): OptionProblem[] {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect((error as InvalidOptionError).code).toBe(ErrorCodes.INVALID_OPTION);
    return [...(error as InvalidOptionError).problems];
  }
  throw new Error('expected an InvalidOptionError');
}

const base = { brokers: ['127.0.0.1:9092'], topic: 'logs' };
const publisher = (options: Record<string, unknown>) => () => resolvePublisherOptions({ ...base, ...options } as unknown as KafkaLogPublisherOptions);

describe('nearestName', () => {
  it.each([
    ['maxBatchsize', 'maxBatchSize'],
    ['logRequestBodies', 'logRequestBody'],
    ['topik', 'topic'],
    ['max_batch_size', 'maxBatchSize'],
    ['tpoic', 'topic'],
    ['user', 'username'],
  ])('%s → %s', (name, nearest) => {
    expect(nearestName(name, ['topic', 'maxBatchSize', 'logRequestBody', 'logResponseBody', 'username', 'brokers'])).toBe(nearest);
  });

  it('suggests nothing for a name far from every option', () => {
    expect(nearestName('frobnicate', ['topic', 'brokers', 'timeout'])).toBeUndefined();
    expect(nearestName('xy', ['topic'])).toBeUndefined();
  });
});

describe('broker addresses', () => {
  it('takes host:port and bracketed IPv6', () => {
    expect(hostPort('brokers[0]', 'kafka-1.internal:9092')).toBe('kafka-1.internal:9092');
    expect(hostPort('brokers[0]', '[::1]:9092')).toBe('[::1]:9092');
    expect(resolvePublisherOptions({ ...base, brokers: ['[::1]:9092', { host: '::1', port: 9093 }, { host: '10.0.0.1', port: 9094 }] }).brokers).toEqual([
      '[::1]:9092',
      '[::1]:9093',
      '10.0.0.1:9094',
    ]);
  });

  it.each([
    ['kafka://host:9092', 'must be "host:port" without a scheme: write "host:9092", not "kafka://host:9092"'],
    ['PLAINTEXT://broker-1:9092/', 'must be "host:port" without a scheme: write "broker-1:9092", not "PLAINTEXT://broker-1:9092/"'],
    ['::1:9092', 'must be "host:port" (an IPv6 host goes in brackets: "[::1]:9092"), got "::1:9092"'],
    ['host', 'must be "host:port", got "host"'],
    ['host:99999', 'must be "host:port", got "host:99999"'],
  ])('refuses %s, saying what to write', (broker, problem) => {
    expect(problemsOf(publisher({ brokers: [broker] }))).toEqual([{ field: 'brokers[0]', problem }]);
  });

  it('refuses a scheme in a { host, port } object too, and a missing port', () => {
    expect(problemsOf(publisher({ brokers: [{ host: 'kafka://h', port: 1 }, { host: 'h' }] }))).toEqual([
      { field: 'brokers[0].host', problem: 'must be a host name or address without a scheme: write "h", not "kafka://h"' },
      { field: 'brokers[1].port', problem: 'is required' },
    ]);
  });
});

describe('URLs', () => {
  it('refuses credentials everywhere, pointing at the options made for them, and never echoes them', () => {
    for (const run of [
      () => httpUrl('url', 'https://user:pa55word@sr.test', 'the authentication options'),
      () => resolveRegistryOptions({ url: 'http://u:pa55word@sr.test', valueSchema: { subject: 's' } }),
      publisher({
        authentication: {
          mechanism: 'OAUTHBEARER',
          oauthBearer: { tokenEndpointUrl: 'https://id:pa55word@idp.test/token', clientId: 'c', clientSecret: 's' },
        },
      }),
    ]) {
      const [problem] = problemsOf(run);
      expect(problem?.problem).toMatch(/^must not contain credentials \(a URL shows in errors and logs\); give them in /);
      expect(JSON.stringify(problem)).not.toContain('pa55word');
    }
  });

  it('says the same for every URL that is not absolute http(s)', () => {
    expect(problemsOf(() => resolveRegistryOptions({ url: 'ftp://sr.test', valueSchema: { subject: 's' } }))[0]?.problem).toBe(
      'must be an absolute http:// or https:// URL',
    );
    expect(
      problemsOf(publisher({ authentication: { mechanism: 'OAUTHBEARER', oauthBearer: { tokenEndpointUrl: 'idp/token', clientId: 'c', clientSecret: 's' } } }))[0]
        ?.problem,
    ).toBe('must be an absolute http:// or https:// URL');
  });
});

describe('OAUTHBEARER options', () => {
  const oauth = (oauthBearer: Record<string, unknown>) => publisher({ authentication: { mechanism: 'OAUTHBEARER', oauthBearer } });
  const provider = async () => ({ value: 'eyJ.eyJ.', lifetimeMs: 60_000 });

  it('take a token provider (with extensions) instead of the client-credentials grant', () => {
    expect(oauth({ provider, extensions: { logicalCluster: 'lkc-1' } })().authentication).toEqual({
      mechanism: 'OAUTHBEARER',
      oauthBearer: { provider, extensions: { logicalCluster: 'lkc-1' } },
    });
  });

  it('refuse both at once, naming what was given too', () => {
    expect(problemsOf(oauth({ provider, tokenEndpointUrl: 'https://idp.test/token', clientSecret: 's' }))).toEqual([
      {
        field: 'authentication.oauthBearer.provider',
        problem:
          'replaces the client-credentials grant: give either provider or tokenEndpointUrl, clientId and clientSecret, not both (tokenEndpointUrl, clientSecret given too)',
      },
    ]);
  });

  it('with neither, say both ways; a provider that is not a function says so alone', () => {
    expect(problemsOf(oauth({}))).toEqual(
      ['tokenEndpointUrl', 'clientId', 'clientSecret'].map((name) => ({
        field: `authentication.oauthBearer.${name}`,
        problem: 'is required (or give provider, a function that returns tokens)',
      })),
    );
    expect(problemsOf(oauth({ provider: 'aws' }))).toEqual([{ field: 'authentication.oauthBearer.provider', problem: 'must be a function, got "aws"' }]);
  });

  it('secrets: an array of strings, never quoted', () => {
    expect(publisher({ secrets: ['kafka-pa55', 'x'] })().secrets).toEqual(['kafka-pa55', 'x']);
    expect(problemsOf(publisher({ secrets: ['ok', 42] }))).toEqual([{ field: 'secrets[1]', problem: 'must be a string' }]);
    expect(problemsOf(publisher({ secrets: 'kafka-pa55' }))).toEqual([{ field: 'secrets', problem: 'must be an array of strings, got a string' }]);
  });
});

describe('unknown options', () => {
  it('are refused in the publisher\'s options, nested objects included, with the nearest name or Kong\'s', () => {
    expect(
      problemsOf(
        publisher({
          maxBatchsize: 10,
          bootstrap_servers: ['h:1'],
          tls: { verfy: true },
          authentication: { mechanism: 'SCRAM-SHA-256', user: 'u', password: 'p' },
        }),
      ),
    ).toEqual([
      { field: 'maxBatchsize', problem: 'unknown option; did you mean "maxBatchSize"?' },
      {
        field: 'bootstrap_servers',
        problem: 'unknown option; "bootstrap_servers" is Kong\'s name: the option is "brokers" (fromKongConfig takes Kong\'s configuration)',
      },
      { field: 'authentication.user', problem: 'unknown option; "user" is Kong\'s name: the option is "username" (fromKongConfig takes Kong\'s configuration)' },
      { field: 'authentication.username', problem: 'is required' },
      { field: 'tls.verfy', problem: 'unknown option; did you mean "verify"?' },
    ]);
    expect(
      problemsOf(
        publisher({ authentication: { mechanism: 'OAUTHBEARER', oauthBearer: { tokenEndpointUrl: 'https://idp.test/t', clientID: 'c', clientSecret: 's' } } }),
      ),
    ).toEqual([
      { field: 'authentication.oauthBearer.clientID', problem: 'unknown option; did you mean "clientId"?' },
      { field: 'authentication.oauthBearer.clientId', problem: 'is required' },
    ]);
    // a key set to undefined says nothing
    expect(() => publisher({ maxBatchsize: undefined })()).not.toThrow();
  });

  it('are refused in the registry\'s options', () => {
    expect(problemsOf(() => resolveRegistryOptions({ url: 'http://sr.test', valueSchema: { subject: 's', versoin: 2 }, refreshInterval: 5 }))).toEqual([
      { field: 'schemaRegistry.refreshInterval', problem: 'unknown option; did you mean "refreshIntervalMs"?' },
      { field: 'schemaRegistry.valueSchema.versoin', problem: 'unknown option; did you mean "version"?' },
    ]);
    expect(problemsOf(() => resolveRegistryOptions({ url: 'http://sr.test', valueSchema: { subject: 's' }, auth: { mode: 'basic', username: 'u', password: 'p', clientId: 'c' } }))).toEqual([
      { field: 'schemaRegistry.auth.clientId', problem: 'unknown option' },
    ]);
  });

  it('are refused by the entry builder and the testing kit', () => {
    expect(problemsOf(() => createLogEntryBuilder({ logRequestBodies: true } as never))).toEqual([
      { field: 'logRequestBodies', problem: 'unknown option; did you mean "logRequestBody"?' },
    ]);
    expect(problemsOf(() => buildTestEntry(exchangeFixture(), { redactHeader: ['cookie'] } as never))).toEqual([
      { field: 'redactHeader', problem: 'unknown option; did you mean "redactHeaders"?' },
    ]);
  });

  it('are refused by every adapter, entry options and adapter options alike', async () => {
    const options = { sink: recordingSink(), logRequestBodies: true, requestIdHeadr: 'x-id' } as never;
    const expected = [
      { field: 'logRequestBodies', problem: 'unknown option; did you mean "logRequestBody"?' },
      { field: 'requestIdHeadr', problem: 'unknown option; did you mean "requestIdHeader"?' },
    ];
    expect(problemsOf(() => expressLog(options))).toEqual(expected);
    expect(problemsOf(() => koaLog(options))).toEqual(expected);
    expect(problemsOf(() => withKafkaLog(() => {}, options))).toEqual(expected);

    const fastify = Fastify();
    fastify.register(fastifyLog, options);
    const fastifyError = await fastify.ready().then(
      () => undefined,
      (error: unknown) => error,
    );
    expect((fastifyError as InvalidOptionError).problems).toEqual(expected);
    await fastify.close();
    // Fastify's own register options are not kafka-log's to refuse
    const withPrefix = Fastify();
    withPrefix.register(fastifyLog, { sink: recordingSink(), prefix: '/api' } as never);
    await expect(withPrefix.ready()).resolves.toBeDefined();
    await withPrefix.close();

    class AppModule {}
    Module({ imports: [KafkaLogModule.forRoot(options)] })(AppModule);
    const nestError = await NestFactory.create(AppModule, { logger: false, abortOnError: false }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect((nestError as InvalidOptionError).problems).toEqual(expected);
  });

  it('are refused in Kong\'s configuration, with the nearest Kong field', () => {
    expect(problemsOf(() => fromKongConfig({ bootstrap_servers: [{ host: 'h', port: 1 }], topic: 't', queue: { max_batch: 5 } }))).toEqual([
      { field: 'queue.max_batch', problem: 'unknown option; did you mean "max_batch_size"?' },
    ]);
  });
});

describe('one message per fault', () => {
  it('says the same for the same fault in every options object', async () => {
    const sink = recordingSink();
    const booleans = [
      problemsOf(publisher({ async: 'yes' })),
      problemsOf(() => expressLog({ sink, traceparent: 'yes' as never })),
      problemsOf(() => resolveRegistryOptions({ url: 'http://sr.test', valueSchema: { subject: 's' }, sslVerify: 'yes' })),
      problemsOf(() => fromKongConfig({ bootstrap_servers: [{ host: 'h', port: 1 }], topic: 't', producer_async: 'yes' })),
    ].map(([problem]) => problem?.problem);
    expect(new Set(booleans)).toEqual(new Set(['must be true or false, got "yes"']));

    const integers = [
      problemsOf(publisher({ maxEntries: 0 })),
      problemsOf(() => createLogEntryBuilder({ maxHeaders: 0 })),
      problemsOf(() => resolveRegistryOptions({ url: 'http://sr.test', valueSchema: { subject: 's' }, requestTimeoutMs: 0 })),
    ].map(([problem]) => problem?.problem);
    expect(new Set(integers)).toEqual(new Set(['must be an integer >= 1, got 0']));

    const missing = [
      problemsOf(() => resolvePublisherOptions({ brokers: ['h:1'] } as never)),
      problemsOf(() => resolveRegistryOptions({ valueSchema: { subject: 's' } })),
      problemsOf(() => fromKongConfig({ bootstrap_servers: [{ host: 'h', port: 1 }] })),
    ].map(([problem]) => problem?.problem);
    expect(new Set(missing)).toEqual(new Set(['is required']));
  });

  it('reports every problem of an options object at once; the first names the error', () => {
    const error = (() => {
      try {
        resolvePublisherOptions({ brokers: [], topic: '', compression: 'brotli', maxEntries: -1 } as never);
      } catch (caught) {
        return caught as InvalidOptionError;
      }
      throw new Error('expected an error');
    })();
    expect(error.problems.map((p) => p.field)).toEqual(['brokers', 'topic', 'compression', 'maxEntries']);
    expect(error.field).toBe('brokers');
    expect(error.problem).toBe('must be a non-empty array of "host:port" strings or { host, port } objects, got an array');
    expect(error.message.split('; invalid option ')).toHaveLength(4);
  });
});

describe('custom fields still in Lua', () => {
  it('fail the adapter at start-up with a hint saying what to write', () => {
    const [problem] = problemsOf(() => expressLog({ sink: recordingSink(), customFields: { region: "return 'eu-west-1'" } }));
    expect(problem?.field).toBe('customFields.region');
    expect(problem?.problem).toContain('the expression does not compile');
    expect(problem?.problem).toContain('this looks like Lua (a leading `return`), which kafka-log does not run');
    expect(problem?.problem).toContain('write "\'eu-west-1\'"');
  });
});

describe('the entry room', () => {
  it('imports nothing of the project but the errors and the option checks (both pure)', () => {
    const root = path.resolve('src');
    const allowed = new Set([path.join(root, 'errors.ts'), path.join(root, 'options', 'check.ts')]);
    const files = readdirSync(path.join(root, 'entry'), { recursive: true, encoding: 'utf8' }).filter((file) => file.endsWith('.ts'));
    expect(files.length).toBeGreaterThan(5);
    for (const file of files) {
      const absolute = path.join(root, 'entry', file);
      for (const [, specifier] of readFileSync(absolute, 'utf8').matchAll(/from '(\.[^']+)'/g)) {
        const target = path.resolve(path.dirname(absolute), (specifier as string).replace(/\.js$/, '.ts'));
        if (target.startsWith(path.join(root, 'entry') + path.sep)) continue;
        expect(allowed.has(target), `${file} imports ${specifier}`).toBe(true);
      }
    }
    const checks = readFileSync(path.join(root, 'options', 'check.ts'), 'utf8');
    expect([...checks.matchAll(/from '([^']+)'/g)].map((match) => match[1])).toEqual(['../errors.js']);
  });
});
