/**
 * What both Kafka clients miss in SASL OAUTHBEARER (RFC 7628): a broker that refuses the token answers with an
 * error challenge (`{"status":"invalid_token"}`) rather than an error, and both clients take that answer for a
 * success, send their next request into an exchange the broker still holds open, and fail later with "Request is
 * not valid given the current SASL state". Here the challenge is read and reported as what it is: a refused token.
 * For kafkajs the whole exchange is replaced (the challenge answered with a single %x01, as RFC 7628 section
 * 3.2.3 asks, after which the broker ends the exchange); @platformatic/kafka takes a check of the answer.
 *
 * @module
 */
import { ErrorCodes, KafkaLogError } from '../errors.js';
import type { TransportOAuthToken } from './transport.js';

const SEPARATOR = '\u0001';
/** An RFC 7628 error status (`invalid_token`, `insufficient_scope`): quoted; anything else is not. */
const STATUS = /^[a-z_]{1,64}$/;

/** The client's initial response: GS2 header, `auth=Bearer <token>`, the extensions, two separators. */
export function initialResponse(token: TransportOAuthToken): string {
  const extensions = Object.entries(token.extensions ?? {})
    .map(([key, value]) => `${SEPARATOR}${key}=${value}`)
    .join('');
  return `n,,${SEPARATOR}auth=Bearer ${token.value}${extensions}${SEPARATOR}${SEPARATOR}`;
}

/** kafkajs' SASL bytes: a length-prefixed byte string (Kafka's BYTES). */
function bytes(text: string): { encode: () => Promise<Buffer> } {
  const payload = Buffer.from(text, 'utf8');
  const length = Buffer.alloc(4);
  length.writeInt32BE(payload.length);
  return { encode: async () => Buffer.concat([length, payload]) };
}

/** The broker's answer as raw bytes (length prefix removed when there is one). */
const RAW_ANSWER = {
  decode: async (raw: Buffer) => (raw.length >= 4 && raw.readInt32BE(0) === raw.length - 4 ? raw.subarray(4) : raw),
  parse: async (data: Buffer) => data,
};

/** The status of an RFC 7628 error challenge, `''` for one without a readable status, `undefined` for none. */
export function errorStatusOf(answer: unknown): string | undefined {
  if (!Buffer.isBuffer(answer) || answer.length === 0) return undefined;
  const text = answer.toString('utf8');
  const start = text.indexOf('{');
  if (start === -1) return undefined;
  try {
    const status = (JSON.parse(text.slice(start)) as { status?: unknown }).status;
    return typeof status === 'string' && STATUS.test(status) ? status : '';
  } catch {
    return '';
  }
}

/** The error of a refused token (`status` from {@link errorStatusOf}). */
export function refusedToken(status: string): KafkaLogError {
  return new KafkaLogError(ErrorCodes.AUTHENTICATION, `the broker refused the OAUTHBEARER token${status === '' ? '' : ` (${status})`}`, { retriable: false });
}

type SaslAuthenticate = (exchange: { request: { encode: () => Promise<Buffer> }; response?: typeof RAW_ANSWER }) => Promise<unknown>;

/** A kafkajs `authenticationProvider` for OAUTHBEARER, with tokens from `token`. */
export function oauthBearerAuthenticator(token: () => Promise<TransportOAuthToken>) {
  return ({ saslAuthenticate }: { saslAuthenticate: SaslAuthenticate }) => ({
    authenticate: async () => {
      const answer = await saslAuthenticate({ request: bytes(initialResponse(await token())), response: RAW_ANSWER });
      const status = errorStatusOf(answer);
      if (status === undefined) return;
      // The broker ends the exchange (and the connection) on this answer; its own error says nothing more.
      await saslAuthenticate({ request: bytes(SEPARATOR), response: RAW_ANSWER }).catch(() => undefined);
      throw refusedToken(status);
    },
  });
}
