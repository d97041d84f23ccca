/**
 * TLS facts of a client connection in Kong's terms (`ssl_protocol`, `ssl_cipher`, `ssl_client_verify`), read
 * once per connection: keep-alive requests on the same socket reuse them.
 *
 * @module
 */

import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { ExchangeTls } from '../entry/exchange.js';

const kTlsFacts = Symbol('kafka-log.tlsFacts');

type TlsFactsHolder = { [kTlsFacts]?: ExchangeTls };

/** The TLS facts of `socket`, or `undefined` on a plain TCP socket. */
export function tlsFactsOf(socket: Socket): ExchangeTls | undefined {
  if (!(socket as Partial<TLSSocket>).encrypted) return undefined;
  const holder = socket as Socket & TlsFactsHolder;
  const known = holder[kTlsFacts];
  if (known !== undefined) return known;
  const tlsSocket = socket as TLSSocket;
  const facts: ExchangeTls = {
    version: tlsSocket.getProtocol() ?? 'unknown',
    // OpenSSL's name (`ECDHE-RSA-AES128-GCM-SHA256`), as nginx's `$ssl_cipher` gives it to Kong.
    cipher: tlsSocket.getCipher()?.name ?? 'unknown',
    clientVerify: clientVerifyOf(tlsSocket),
  };
  holder[kTlsFacts] = facts;
  return facts;
}

/** nginx's `$ssl_client_verify`: `SUCCESS`, `FAILED:<reason>` for a certificate that did not verify, else `NONE`. */
function clientVerifyOf(socket: TLSSocket): string {
  if (socket.authorized) return 'SUCCESS';
  const peer = socket.getPeerCertificate();
  if (peer === null || peer === undefined || Object.keys(peer).length === 0) return 'NONE';
  // At run time node gives the OpenSSL verification code as a string (typed as Error).
  const reason: unknown = socket.authorizationError;
  return `FAILED:${reason instanceof Error ? reason.message : String(reason ?? 'unknown')}`;
}
