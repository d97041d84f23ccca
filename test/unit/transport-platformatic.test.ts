import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import * as path from 'node:path';
import {
  AuthenticationError,
  MultipleErrors,
  NetworkError,
  ProtocolError,
  ResponseError,
  TimeoutError,
  UserError,
} from '@platformatic/kafka';
import { buildSync } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { ErrorCodes, InvalidOptionError, KafkaLogError } from '../../src/errors.js';
import { resolvePublisherOptions } from '../../src/publisher/publisher-options.js';
import { classifyPlatformaticError, clientTimedOut } from '../../src/transport/platformatic-errors.js';
import { loadPlatformaticKafka } from '../../src/transport/platformatic.js';
import { TRANSPORT_NAMES } from '../../src/transport/select.js';
import { TransportError } from '../../src/transport/transport.js';

describe('transport option', () => {
  it('takes kafkajs (default), platformatic or a factory, and names the field otherwise', () => {
    const base = { brokers: ['127.0.0.1:9092'], topic: 't' };
    expect(resolvePublisherOptions(base).transport).toBe('kafkajs');
    expect(resolvePublisherOptions({ ...base, transport: 'platformatic' }).transport).toBe('platformatic');
    const factory = () => ({ connect: async () => undefined, produce: async () => undefined, close: async () => undefined });
    expect(resolvePublisherOptions({ ...base, transport: factory }).transport).toBe(factory);
    expect(() => resolvePublisherOptions({ ...base, transport: 'librdkafka' as never })).toThrowError(InvalidOptionError);
    expect(() => resolvePublisherOptions({ ...base, transport: 'librdkafka' as never })).toThrowError(/"transport"/);
    expect(TRANSPORT_NAMES).toEqual(['kafkajs', 'platformatic']);
  });

  it('without @platformatic/kafka installed: MISSING_DEPENDENCY naming the package and the install command', async () => {
    const missing = Object.assign(new Error("Cannot find package '@platformatic/kafka' imported from x"), { code: 'ERR_MODULE_NOT_FOUND' });
    const error = await loadPlatformaticKafka(() => Promise.reject(missing)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransportError);
    expect(error).toMatchObject({ kind: 'missing_dependency', code: ErrorCodes.MISSING_DEPENDENCY, retriable: false });
    expect((error as Error).message).toContain('npm install @platformatic/kafka');
  });

  it('importing the package loads no Kafka client', () => {
    const dir = path.resolve(`.local/test-transport-lazy-${process.pid}`); // two Node lines may run at once
    mkdirSync(dir, { recursive: true });
    const outfile = path.join(dir, 'index.cjs');
    buildSync({
      entryPoints: [path.resolve('src/index.ts')],
      bundle: true,
      platform: 'node',
      format: 'cjs',
      outfile,
      packages: 'external',
      logLevel: 'silent',
    });
    const script = `require(${JSON.stringify(outfile)});
      const loaded = Object.keys(require.cache).filter((k) => /node_modules[\\\\/](kafkajs|@platformatic[\\\\/]kafka)[\\\\/]/.test(k));
      console.log(JSON.stringify(loaded));`;
    const out = execFileSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 20_000 });
    expect(JSON.parse(out.trim())).toEqual([]);
  });
});

describe('classifyPlatformaticError', () => {
  it('a refused password inside a retriable "connection failed" is an authentication failure', () => {
    const error = new NetworkError('Connection to 127.0.0.1:9093 failed.', { cause: new AuthenticationError('SASL authentication failed.') });
    expect(classifyPlatformaticError(new MultipleErrors('metadata failed 11 times.', [error]))).toMatchObject({
      kind: 'authentication',
      code: ErrorCodes.AUTHENTICATION,
      retriable: false,
    });
  });

  it('an untrusted certificate is an authentication failure', () => {
    const tls = Object.assign(new Error('self-signed certificate in certificate chain'), { code: 'SELF_SIGNED_CERT_IN_CHAIN' });
    expect(classifyPlatformaticError(new NetworkError('Connection to b:9093 failed.', { cause: tls }))).toMatchObject({ kind: 'authentication', retriable: false });
  });

  it('spent retries over a broker that went away stay retriable', () => {
    const down = new NetworkError('Connection to 127.0.0.1:9092 failed.', { cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) });
    expect(classifyPlatformaticError(new MultipleErrors('produce failed 11 times.', [down, down]))).toMatchObject({ kind: 'broker', retriable: true });
  });

  it('a too large batch is message_too_large, not retriable', () => {
    const refused = new ResponseError(0, 11, { '/responses/0/partitionResponses/0': [10, null] }, {});
    expect(classifyPlatformaticError(new MultipleErrors('Producing messages failed.', [refused]))).toMatchObject({ kind: 'message_too_large', retriable: false });
  });

  it('a request the client stopped waiting for is a retriable timeout', () => {
    expect(classifyPlatformaticError(new TimeoutError('Request timed out'))).toMatchObject({ kind: 'timeout', code: ErrorCodes.TIMEOUT, retriable: true });
    expect(classifyPlatformaticError(new ProtocolError('REQUEST_TIMED_OUT'))).toMatchObject({ kind: 'timeout', retriable: true });
  });

  it('tells a request the client stopped waiting for (its connection is to be replaced) from a broker that answered', () => {
    const waited = new MultipleErrors('Producing messages failed.', [new TimeoutError('Request timed out')]);
    expect(clientTimedOut(waited)).toBe(true);
    expect(clientTimedOut(new NetworkError('Connection to b:9092 failed.', { cause: new TimeoutError('Connection to b:9092 timed out.') }))).toBe(true);
    // the broker answered "timed out": the connection works
    expect(clientTimedOut(new ResponseError(0, 11, { '/responses/0/partitionResponses/0': [7, null] }, {}))).toBe(false);
    expect(clientTimedOut(new NetworkError('Connection closed'))).toBe(false);
    expect(clientTimedOut(new Error('Request timed out'))).toBe(false);
  });

  it('a topic being auto-created is retriable; other usage errors are not', () => {
    expect(classifyPlatformaticError(new UserError('Unknown topic logs.'))).toMatchObject({ retriable: true });
    expect(classifyPlatformaticError(new UserError('Failed to serialize a message.'))).toMatchObject({ retriable: false });
  });

  it("keeps kafka-log's own errors (an OAuth token endpoint refusing) with their code", () => {
    const refused = new KafkaLogError(ErrorCodes.AUTHENTICATION, 'OAuth token request failed: 401', { retriable: true });
    const wrapped = new NetworkError('Connection failed.', { cause: new AuthenticationError('The SASL/OAUTHBEARER token provider threw an error.', { cause: refused }) });
    expect(classifyPlatformaticError(wrapped)).toMatchObject({ kind: 'authentication', code: ErrorCodes.AUTHENTICATION, message: refused.message });
  });
});
