// Invalid adapter options, one table run over every framework: each refuses them with InvalidOptionError naming the
// field, when the framework first runs the adapter's set-up (at once for a middleware or a wrapped listener, at
// registration for a Fastify plugin, at bootstrap for a Nest module), and never serves with them.
import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { kafkaLog as expressLog } from '../../src/adapters/express.js';
import { kafkaLog as fastifyLog } from '../../src/adapters/fastify.js';
import { withKafkaLog } from '../../src/adapters/http.js';
import { kafkaLog as koaLog } from '../../src/adapters/koa.js';
import { KafkaLogModule } from '../../src/adapters/nest.js';
import type { KafkaLogAdapterOptions } from '../../src/capture/adapter-options.js';
import { ErrorCodes, InvalidOptionError } from '../../src/errors.js';
import { recordingSink } from './adapters-support.js';

type AnyOptions = KafkaLogAdapterOptions<never>;

interface Framework {
  /** Applies the adapter with these options as the framework's users do; may throw or return a promise. */
  apply(options: AnyOptions): unknown;
  /** Whether the refusal comes at once (a synchronous throw) rather than as the framework's start failing. */
  atOnce: boolean;
}

const FRAMEWORKS: Record<string, Framework> = {
  express: { apply: (options) => expressLog(options as never), atOnce: true },
  koa: { apply: (options) => koaLog(options as never), atOnce: true },
  http: { apply: (options) => withKafkaLog(() => undefined, options as never), atOnce: true },
  fastify: {
    async apply(options) {
      const app = Fastify();
      try {
        app.register(fastifyLog, options as never);
        await app.ready();
      } finally {
        await app.close();
      }
    },
    atOnce: false,
  },
  nest: {
    async apply(options) {
      class AppModule {}
      Module({ imports: [KafkaLogModule.forRoot(options as never)] })(AppModule);
      const app = await NestFactory.create(AppModule, { logger: false, abortOnError: false });
      await app.close();
    },
    atOnce: false,
  },
};

/** Each invalid option, and the field the error must name. */
const INVALID: Array<[string, Record<string, unknown>, string]> = [
  ['no sink', { sink: undefined }, 'sink'],
  ['a sink without publish()', { sink: {} }, 'sink'],
  ['a request id header that is no header name', { requestIdHeader: 'bad header' }, 'requestIdHeader'],
  ['traceparent that is not a boolean', { traceparent: 'yes' }, 'traceparent'],
  ['a workspace that is not a string', { workspace: 7 }, 'workspace'],
  ['a consumer that is not a function', { consumer: 'x' }, 'consumer'],
  ['a negative maxBodySize', { maxBodySize: -1 }, 'maxBodySize'],
];

describe.each(Object.entries(FRAMEWORKS))('kafka-log/%s refuses invalid options', (_name, { apply, atOnce }) => {
  it.each(INVALID)('%s: InvalidOptionError naming the field', async (_title, invalid, field) => {
    const options = { sink: recordingSink(), ...invalid } as unknown as AnyOptions;
    const expected = { code: ErrorCodes.INVALID_OPTION, message: expect.stringMatching(new RegExp(`\\b${field}\\b`)) };
    if (!atOnce) {
      await expect(apply(options)).rejects.toMatchObject(expected);
      return;
    }
    let thrown: unknown;
    try {
      apply(options);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(InvalidOptionError);
    expect(thrown).toMatchObject(expected);
  });
});
