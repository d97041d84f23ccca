// SecretSet: the forms a secret is recognised in, only the current token kept, and clean copies of error trees
// (prototype kept, strings scrubbed, foreign objects and getters left behind, the original never touched).
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { KafkaLogError, RegistryError } from '../../src/errors.js';
import { REDACTED, SecretSet } from '../../src/secrets.js';
import { TransportError } from '../../src/transport/transport.js';

const SECRET = 'p@ss w0rd+/=&"é';

describe('scrub', () => {
  it('removes a secret as is, URL-encoded, form-encoded, JSON-escaped, and in basic and SASL PLAIN base64', () => {
    const secrets = new SecretSet().add(SECRET, 'svc');
    const forms = [
      SECRET,
      encodeURIComponent(SECRET),
      new URLSearchParams({ p: SECRET }).toString().slice(2),
      JSON.stringify(SECRET).slice(1, -1),
      Buffer.from(`svc:${SECRET}`).toString('base64'),
      Buffer.from(`\0svc\0${SECRET}`).toString('base64'),
    ];
    for (const form of forms) {
      expect(secrets.scrub(`before ${form} after`)).toBe(`before ${REDACTED} after`);
    }
    expect(secrets.scrub('nothing here')).toBe('nothing here');
  });

  it('ignores values too short to be told apart from ordinary text', () => {
    const secrets = new SecretSet().add('ab').add(undefined);
    expect(secrets.size).toBe(0);
    expect(secrets.scrub('a b ab abc')).toBe('a b ab abc');
  });

  it('keeps only the current token of each owner: a replaced token leaves the set', () => {
    const secrets = new SecretSet().add(SECRET);
    const base = secrets.size;
    const tokenSource = {};
    for (let i = 0; i < 50; i++) secrets.setCurrent(tokenSource, `token-number-${i}`);
    expect(secrets.size).toBe(base + 1); // token-number-49 needs no encoding: one form
    expect(secrets.scrub('token-number-49')).toBe(REDACTED);
    expect(secrets.scrub('token-number-48')).toBe('token-number-48');
    secrets.setCurrent(tokenSource, undefined);
    expect(secrets.size).toBe(base);
    expect(secrets.scrub(SECRET)).toBe(REDACTED);
  });
});

describe('cleanError', () => {
  it('gives back an error holding no secret as it is (same object)', () => {
    const secrets = new SecretSet().add(SECRET);
    const error = new RegistryError('registry down', { retriable: true, status: 503, cause: new Error('ECONNRESET') });
    expect(secrets.cleanError(error)).toBe(error);
  });

  it('copies an error holding a secret: message, stack, every cause, aggregate members, own string properties', () => {
    const secrets = new SecretSet().add(SECRET);
    const socketError = Object.assign(new Error(`connect failed for ${SECRET}`), { code: 'ECONNREFUSED', input: `http://u:${SECRET}@h` });
    const aggregate = new AggregateError([new Error(`one ${SECRET}`), new Error('two')], 'several');
    const middle = new Error(`middle ${encodeURIComponent(SECRET)}`, { cause: socketError });
    const outer = new TransportError('authentication', `refused: ${SECRET}`, false);
    Object.defineProperty(outer, 'cause', { value: middle, enumerable: false, writable: true, configurable: true });
    (outer as unknown as { related: unknown }).related = aggregate;
    const stackBefore = outer.stack; // read early, as user code could: it holds the secret
    expect(stackBefore).toContain(SECRET);

    const clean = secrets.cleanError(outer);
    expect(clean).not.toBe(outer);
    expect(clean).toBeInstanceOf(TransportError);
    expect(clean).toBeInstanceOf(KafkaLogError);
    expect(clean.kind).toBe('authentication');
    expect(clean.code).toBe(outer.code);
    expect(clean.retriable).toBe(false);
    const text = inspect(clean, { depth: 20, showHidden: true });
    expect(text).toContain(REDACTED);
    for (const form of [SECRET, encodeURIComponent(SECRET)]) expect(text).not.toContain(form);
    expect(clean.stack).not.toContain(SECRET);
    const cause = clean.cause as Error & { cause: Error & { code: string } };
    expect(cause.message).toBe(`middle ${REDACTED}`);
    expect(cause.cause.code).toBe('ECONNREFUSED');
    expect(cause.cause.stack).not.toContain(SECRET);
    expect((clean as unknown as { related: AggregateError }).related.errors).toHaveLength(2);
    // The original is never edited (its early stack stays what it was; nothing reads it any more).
    expect(outer.message).toBe(`refused: ${SECRET}`);
    expect(outer.stack).toBe(stackBefore);
  });

  it('leaves behind objects other than errors, getters, functions; survives cycles and deep chains', () => {
    const secrets = new SecretSet().add(SECRET);
    let getterRan = false;
    const error = new Error('outer') as Error & Record<string, unknown>;
    error.config = { headers: { authorization: `Bearer ${SECRET}` } };
    error.callback = () => SECRET;
    Object.defineProperty(error, 'hostile', {
      get() {
        getterRan = true;
        return SECRET;
      },
      enumerable: true,
    });
    error.self = error;
    let deep: Error = new Error(`bottom ${SECRET}`);
    for (let i = 0; i < 50; i++) deep = new Error(`level ${i}`, { cause: deep });
    error.cause = deep;
    const clean = secrets.cleanError(error) as Error & Record<string, unknown>;
    expect(getterRan).toBe(false);
    expect(clean.config).toBeUndefined();
    expect(clean.callback).toBeUndefined();
    expect(clean.hostile).toBeUndefined();
    expect(clean.self).toBe(clean);
    expect(inspect(clean, { depth: 100, showHidden: true })).not.toContain(SECRET);
  });

  it('leaves out a cause whose inspection throws (a Proxy with hostile traps) and still returns a clean copy', () => {
    const secrets = new SecretSet().add(SECRET);
    const trap = new Proxy(
      {},
      {
        getPrototypeOf() {
          throw new Error('prototype trap');
        },
      },
    );
    const clean = secrets.cleanError(new KafkaLogError('KAFKA_LOG_ERR_CUSTOM_FIELD', `failed ${SECRET}`, { cause: trap }));
    expect(clean).toBeInstanceOf(KafkaLogError);
    expect(clean.message).toBe(`failed ${REDACTED}`);
    expect(clean.cause).toBeUndefined();
  });

  it('scrubs strings and passes other values through', () => {
    const secrets = new SecretSet().add(SECRET);
    expect(secrets.cleanError(`x ${SECRET}`)).toBe(`x ${REDACTED}`);
    expect(secrets.cleanError(42)).toBe(42);
    expect(secrets.cleanError(undefined)).toBeUndefined();
  });
});
