/**
 * Makes options printable: secrets masked by field name, PEM material summarized, functions named.
 *
 * @module
 */

/** What a masked secret prints as. */
export const MASK = '********';

// Field names (camelCase and Kong's snake_case) whose values are secrets.
const SECRET_FIELDS = /^(password|clientSecret|client_secret|secret|token|key|private_key|api_key|apiKey)$/i;

/** A deep copy of `value` safe to print: secret fields masked, buffers and PEM text summarized. */
export function maskSecrets(value: unknown, field = ''): unknown {
  if (typeof value === 'string' && SECRET_FIELDS.test(field)) return MASK;
  if (Buffer.isBuffer(value)) return `<${value.length} bytes>`;
  if (typeof value === 'string' && value.startsWith('-----BEGIN ')) return `<PEM, ${value.length} characters>`;
  if (typeof value === 'function') return '<function>';
  if (Array.isArray(value)) return value.map((item) => maskSecrets(item, field));
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [name, item] of Object.entries(value)) {
      out[name] = SECRET_FIELDS.test(name) && item !== null && item !== undefined && typeof item !== 'object' ? MASK : maskSecrets(item, name);
    }
    return out;
  }
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  return value;
}
