/**
 * Delegation-token authentication for the @platformatic/kafka transport: SCRAM (RFC 5802) whose client-first
 * message carries the `tokenauth=true` extension. @platformatic/kafka builds that message itself with no room for
 * extensions, so this is a whole SCRAM client, plugged in through its custom-authenticator hook.
 *
 * @module
 */
import { createHash, createHmac, pbkdf2, randomBytes, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';

const pbkdf2Async = promisify(pbkdf2);
const GS2_HEADER = 'n,,';
const ALGORITHMS = {
  'SCRAM-SHA-256': { digest: 'sha256', keyLength: 32 },
  'SCRAM-SHA-512': { digest: 'sha512', keyLength: 64 },
} as const;

/** The SCRAM mechanisms a delegation token authenticates with. */
type ScramMechanism = keyof typeof ALGORITHMS;

/** Sends one SASL authenticate request and gives the broker's auth bytes. */
type SaslExchange = (authBytes: Buffer) => Promise<Buffer>;

// RFC 5802 5.1: "," and "=" in a user name are escaped.
const saslName = (name: string) => name.replaceAll('=', '=3D').replaceAll(',', '=2C');

function attributes(message: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const part of message.split(',')) {
    const at = part.indexOf('=');
    if (at > 0) map.set(part.slice(0, at), part.slice(at + 1));
  }
  return map;
}

/**
 * Runs a SCRAM exchange with the `tokenauth=true` extension: `username` is the token id, `password` its HMAC.
 * Rejects with a plain Error (the transport classifies it as an authentication failure) on a refusal or a
 * server signature that does not match.
 */
export async function authenticateScramToken(
  mechanism: ScramMechanism,
  username: string,
  password: string,
  exchange: SaslExchange,
): Promise<void> {
  const { digest, keyLength } = ALGORITHMS[mechanism];
  const nonce = randomBytes(18).toString('base64');
  const clientFirstBare = `n=${saslName(username)},r=${nonce},tokenauth=true`;
  const serverFirst = (await exchange(Buffer.from(`${GS2_HEADER}${clientFirstBare}`))).toString('utf8');
  const first = attributes(serverFirst);
  const serverNonce = first.get('r') ?? '';
  const salt = Buffer.from(first.get('s') ?? '', 'base64');
  const iterations = Number.parseInt(first.get('i') ?? '', 10);
  if (first.has('e')) throw new Error(`SCRAM authentication failed: ${first.get('e')}`);
  if (!serverNonce.startsWith(nonce) || salt.length === 0 || !(iterations >= 4096)) {
    throw new Error('SCRAM authentication failed: malformed server-first message');
  }
  const salted = await pbkdf2Async(password, salt, iterations, keyLength, digest);
  const hmac = (key: Buffer, text: string) => createHmac(digest, key).update(text).digest();
  const clientKey = hmac(salted, 'Client Key');
  const storedKey = createHash(digest).update(clientKey).digest();
  const finalWithoutProof = `c=${Buffer.from(GS2_HEADER).toString('base64')},r=${serverNonce}`;
  const authMessage = `${clientFirstBare},${serverFirst},${finalWithoutProof}`;
  const signature = hmac(storedKey, authMessage);
  const proof = Buffer.alloc(clientKey.length);
  for (let i = 0; i < proof.length; i++) proof[i] = (clientKey[i] as number) ^ (signature[i] as number);
  const serverFinal = attributes(
    (await exchange(Buffer.from(`${finalWithoutProof},p=${proof.toString('base64')}`))).toString('utf8'),
  );
  if (serverFinal.has('e')) throw new Error(`SCRAM authentication failed: ${serverFinal.get('e')}`);
  const expected = hmac(hmac(salted, 'Server Key'), authMessage);
  const given = Buffer.from(serverFinal.get('v') ?? '', 'base64');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new Error('SCRAM authentication failed: the server signature does not match');
  }
}
