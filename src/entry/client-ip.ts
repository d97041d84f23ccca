/**
 * `client_ip`: the socket peer, or, behind trusted proxies, the nearest untrusted `X-Forwarded-For` hop.
 * The address walk and CIDR matching come from `proxy-addr`, the module Express uses for the same job.
 *
 * @module
 */

import proxyAddr from 'proxy-addr';
import { InvalidOptionError } from '../errors.js';
import type { TrustProxy } from './entry-options.js';

/** Resolves the client address from the socket peer and the `X-Forwarded-For` header. */
export type ClientIpResolver = (remoteAddress: string, forwardedFor: string | undefined) => string;

/** Compiles a {@link TrustProxy} setting once, at start-up. Throws InvalidOptionError for bad addresses. */
export function compileClientIpResolver(trust: TrustProxy | undefined, field = 'trustProxy'): ClientIpResolver {
  if (trust === undefined || trust === false) return (remoteAddress) => unmapIpv4(remoteAddress);
  const isTrusted = compileTrust(trust, field);
  return (remoteAddress, forwardedFor) => {
    if (forwardedFor === undefined || forwardedFor === '') return unmapIpv4(remoteAddress);
    const request = { socket: { remoteAddress }, connection: { remoteAddress }, headers: { 'x-forwarded-for': forwardedFor } };
    return unmapIpv4(proxyAddr(request as unknown as Parameters<typeof proxyAddr>[0], isTrusted));
  };
}

function compileTrust(trust: Exclude<TrustProxy, false>, field: string): (address: string, hop: number) => boolean {
  if (trust === true) return () => true;
  if (typeof trust === 'number') {
    if (!Number.isInteger(trust) || trust < 0) throw new InvalidOptionError(field, 'a hop count must be a whole number >= 0');
    return (_address, hop) => hop < trust;
  }
  if (typeof trust === 'function') {
    return (address, hop) => {
      try {
        return trust(address, hop) === true;
      } catch {
        // A throwing user predicate must not break logging: treat the hop as untrusted.
        return false;
      }
    };
  }
  try {
    return proxyAddr.compile([...trust]);
  } catch (error) {
    throw new InvalidOptionError(field, `not an IP address or CIDR range list (${(error as Error).message})`);
  }
}

/** `::ffff:127.0.0.1` → `127.0.0.1`, as nginx reports IPv4 peers on dual-stack sockets. */
function unmapIpv4(address: string): string {
  return address.startsWith('::ffff:') && address.indexOf('.') !== -1 ? address.slice(7) : address;
}
