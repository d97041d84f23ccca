/**
 * Makes options printable: secrets masked by pattern, PEM material summarized, functions named.
 *
 * Masked as `********`:
 * - the value of a key that names a secret: one holding `password`, `passphrase`, `secret`, `token`, `credential`,
 *   `authorization` or `cookie`, or ending in `key` (`key`, `apiKey`, `private_key`), in any case and with `_` or
 *   `-` ignored. A key that names where a secret is or which value to use is not a secret itself: keys ending in
 *   `url`, `uri`, `endpoint`, `queryarg`, `schema`, `verify`, `auth`, `mode`, `type`, `id`, `name`, `file` or
 *   `path` are printed (`keyQueryArg` names a query argument, `tokenEndpointUrl` a URL, `keySchema` a subject,
 *   `tokenAuth` a switch). Booleans are always printed: they say whether, not what.
 * - every value of a header map (a key ending in `headers` holding an object, such as `messageHeaders`) and of SASL
 *   extensions (`extensions`): header values carry credentials more often than not.
 * - a string that is an HTTP credential as a whole (`Bearer abc`, `Basic dXNlcjpwYXNz`): the scheme stays.
 * Inside every printed string (messages too): the password of a URL's userinfo (`https://user:pass@host` becomes
 * `https://user:***@host`), the value of a query argument named like a secret (`?access_token=***`), and the
 * credential of a quoted `Authorization` header (`authorization: Bearer ***`), and the value of a quoted pair whose
 * key names a secret (`password: ***`, as a YAML error quotes the line it failed on).
 *
 * @module
 */

import { isPlainObject } from '../options/check.js';

/** What a masked secret prints as. */
export const MASK = '********';

const SECRET_WORDS = /password|passwd|passphrase|secret|token|credential|authorization|cookie/;
const NOT_A_SECRET_SUFFIX = /(url|uri|endpoint|queryarg|schema|verify|auth|mode|type|id|name|file|path)$/;
const VALUE_MAP_KEYS = /(headers|extensions)$/;

function normalized(key: string): string {
  return key.toLowerCase().replace(/[-_\s]/g, '');
}

/** Whether the value of option `key` is a secret (see the module's rules). */
export function isSecretKey(key: string): boolean {
  const name = normalized(key);
  if (NOT_A_SECRET_SUFFIX.test(name)) return false;
  return SECRET_WORDS.test(name) || name.endsWith('key');
}

function isValueMapKey(key: string): boolean {
  return VALUE_MAP_KEYS.test(normalized(key));
}

// scheme://user:password@  — the password part, up to the last @ before the path.
const URL_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/[^\s/?#@:]*):[^\s/?#]*@/gi;
// ?name=value or &name=value where name is secret-like.
const QUERY_ARGUMENT = /([?&;])([^=&#\s]+)=([^&#\s]*)/g;
const AUTH_SCHEMES = 'Basic|Bearer|Digest|Negotiate';
// `authorization: Bearer x`, `"authorization":"Basic x"`: a header quoted in a message.
const QUOTED_AUTHORIZATION = new RegExp(`(authorization["']?\\s*[:=]\\s*["']?(?:${AUTH_SCHEMES})\\s+)[^\\s"',;]+`, 'gi');
// `password: x`, `"client_secret":"x"`, `token=x`: a key-value pair quoted in a message (a YAML error shows the
// line it failed on). The value is masked when the key names a secret; an auth scheme is left to the rule above.
const QUOTED_PAIR = new RegExp(`(["']?)([A-Za-z_][\\w-]*)\\1(\\s*[:=]\\s*)(?!["']?(?:${AUTH_SCHEMES})\\s)("[^"]*"|'[^']*'|[^\\s,;}&]+)`, 'g');
// A whole value that is a credential (a header value in a config).
const CREDENTIAL_VALUE = new RegExp(`^(${AUTH_SCHEMES})\\s+\\S+$`, 'i');

/** `text` with URL passwords, secret-named query arguments and quoted credentials masked (see the module's rules). */
export function maskText(text: string): string {
  return text
    .replace(URL_USERINFO, '$1:***@')
    .replace(QUERY_ARGUMENT, (whole, separator: string, name: string) => {
      let decoded = name;
      try {
        decoded = decodeURIComponent(name);
      } catch {
        // A malformed escape: judge the name as written.
      }
      return isSecretKey(decoded) ? `${separator}${name}=***` : whole;
    })
    .replace(QUOTED_AUTHORIZATION, '$1***')
    .replace(QUOTED_PAIR, (whole, quote: string, name: string, separator: string, value: string) => {
      if (!isSecretKey(name)) return whole;
      const valueQuote = value.startsWith('"') || value.startsWith("'") ? (value[0] as string) : '';
      return `${quote}${name}${quote}${separator}${valueQuote}***${valueQuote}`;
    });
}

function maskAll(value: unknown): unknown {
  if (typeof value === 'boolean' || value === null || value === undefined) return value;
  if (Array.isArray(value)) return value.map(maskAll);
  if (typeof value === 'object' && !Buffer.isBuffer(value)) {
    return Object.fromEntries(Object.entries(value).map(([name, item]) => [name, maskAll(item)]));
  }
  return MASK;
}

/** A deep copy of `value` safe to print: secrets masked (see the module's rules), buffers and PEM text summarized. */
export function maskSecrets(value: unknown, field = ''): unknown {
  if (field !== '' && isSecretKey(field)) return maskAll(value);
  if (Buffer.isBuffer(value)) return `<${value.length} bytes>`;
  if (typeof value === 'string') {
    if (value.startsWith('-----BEGIN ')) return `<PEM, ${value.length} characters>`;
    const credential = CREDENTIAL_VALUE.exec(value);
    return credential ? `${credential[1]} ***` : maskText(value);
  }
  if (typeof value === 'function') return '<function>';
  if (Array.isArray(value)) return value.map((item) => maskSecrets(item, field));
  if (typeof value === 'object' && value !== null) {
    const valueMap = field !== '' && isValueMapKey(field);
    const out: Record<string, unknown> = {};
    for (const [name, item] of Object.entries(value)) out[name] = valueMap ? maskAll(item) : maskSecrets(item, name);
    return out;
  }
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  return value;
}

/** A deep copy of `value` where every string holding one of `secrets` (3 characters or more) is {@link MASK}. */
export function maskValuesOf(value: unknown, secrets: readonly string[]): unknown {
  const held = secrets.filter((secret) => secret.length >= 3);
  if (held.length === 0) return value;
  const walk = (item: unknown): unknown => {
    if (typeof item === 'string') return held.some((secret) => item.includes(secret)) ? MASK : item;
    if (Array.isArray(item)) return item.map(walk);
    if (isPlainObject(item)) return Object.fromEntries(Object.entries(item).map(([name, inner]) => [name, walk(inner)]));
    return item;
  };
  return walk(value);
}
