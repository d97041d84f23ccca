// SASL OAUTHBEARER as both transports speak it: the client's initial response (RFC 7628), and a broker's error
// challenge read as a refused token (answered with %x01 on kafkajs, as RFC 7628 section 3.2.3 asks).
import { describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../src/errors.js';
import { errorStatusOf, initialResponse, oauthBearerAuthenticator } from '../../src/transport/oauthbearer.js';
import { caught } from '../support/caught.js';

const prefixed = (text: string) => {
  const payload = Buffer.from(text);
  const length = Buffer.alloc(4);
  length.writeInt32BE(payload.length);
  return Buffer.concat([length, payload]);
};

describe('OAUTHBEARER', () => {
  it('the initial response carries the token and the extensions', () => {
    expect(initialResponse({ value: 'eyJ.eyJ.', extensions: { logicalCluster: 'lkc-1' } })).toBe('n,,\u0001auth=Bearer eyJ.eyJ.\u0001logicalCluster=lkc-1\u0001\u0001');
    expect(initialResponse({ value: 'abc' })).toBe('n,,\u0001auth=Bearer abc\u0001\u0001');
  });

  it('reads an error challenge, quoting only a status shaped like one', () => {
    expect(errorStatusOf(Buffer.alloc(0))).toBeUndefined();
    expect(errorStatusOf(undefined)).toBeUndefined();
    expect(errorStatusOf(Buffer.from('{"status":"invalid_token"}'))).toBe('invalid_token');
    expect(errorStatusOf(Buffer.from('{"status":"eyJ.secret-looking value"}'))).toBe('');
    expect(errorStatusOf(Buffer.from('{not json'))).toBe('');
  });

  it('kafkajs: a success ends the exchange; a challenge is answered with %x01 and reported as a refused token', async () => {
    const sent: string[] = [];
    const broker = (answers: Buffer[]) => async ({ request, response }: { request: { encode: () => Promise<Buffer> }; response?: { decode: (raw: Buffer) => Promise<Buffer>; parse: (data: Buffer) => Promise<Buffer> } }) => {
      const bytes = await request.encode();
      sent.push(bytes.subarray(4).toString());
      const raw = answers.shift() ?? Buffer.alloc(0);
      return response ? response.parse(await response.decode(raw)) : undefined;
    };
    const token = async () => ({ value: 'eyJ.eyJ.' });
    await oauthBearerAuthenticator(token)({ saslAuthenticate: broker([prefixed('')]) }).authenticate();
    expect(sent).toEqual(['n,,\u0001auth=Bearer eyJ.eyJ.\u0001\u0001']);
    sent.length = 0;
    const error = await caught(oauthBearerAuthenticator(token)({ saslAuthenticate: broker([prefixed('{"status":"invalid_token"}')]) }).authenticate());
    expect(error).toMatchObject({ code: ErrorCodes.AUTHENTICATION, retriable: false, message: 'the broker refused the OAUTHBEARER token (invalid_token)' });
    expect(sent).toEqual(['n,,\u0001auth=Bearer eyJ.eyJ.\u0001\u0001', '\u0001']);
  });
});
