/**
 * Finds every `kafka-log` plugin in a Kong declarative config (top-level, or nested under services, routes,
 * consumers...), or takes a file holding a single plugin object or a bare plugin `config`. Pure.
 *
 * @module
 */
import { isPlainObject } from '../options/check.js';
import type { KongCertificate } from '../publisher/kong-plugin-config.js';

/** The plugin name Kong gives Kafka Log. */
const KAFKA_LOG_PLUGIN = 'kafka-log';

/** One plugin found. */
interface FoundPlugin {
  /** Where it is, e.g. `services[0].routes[1].plugins[0]`, or `(file)` for a single plugin file. */
  location: string;
  /** Names of the entities it sits under, e.g. `service "orders" > route "orders-read"`. */
  owner?: string;
  /** The plugin object (with `config`), or the bare config. */
  plugin: unknown;
}

type Json = Record<string, unknown>;

const ENTITY_KINDS: Record<string, string> = {
  services: 'service',
  routes: 'route',
  consumers: 'consumer',
  consumer_groups: 'consumer group',
};

function entityLabel(kind: string | undefined, node: Json): string | undefined {
  if (kind === undefined) return undefined;
  const label = ENTITY_KINDS[kind];
  if (!label) return undefined;
  const name = node.name ?? node.username ?? node.id;
  return typeof name === 'string' ? `${label} "${name}"` : label;
}

function walk(node: unknown, path: string, parentKey: string | undefined, owners: string[], out: FoundPlugin[]): void {
  if (Array.isArray(node)) {
    for (const [i, item] of node.entries()) walk(item, `${path}[${i}]`, parentKey, owners, out);
    return;
  }
  if (!isPlainObject(node)) return;
  if (parentKey === 'plugins' && node.name === KAFKA_LOG_PLUGIN) {
    out.push({ location: path, ...(owners.length > 0 ? { owner: owners.join(' > ') } : {}), plugin: node });
    return;
  }
  const label = entityLabel(parentKey, node);
  const nextOwners = label ? [...owners, label] : owners;
  for (const [key, value] of Object.entries(node)) {
    if (typeof value === 'object' && value !== null) walk(value, path === '' ? key : `${path}.${key}`, key, nextOwners, out);
  }
}

/**
 * Every `kafka-log` plugin in `document`. A document that is itself a plugin (`name: kafka-log`) or a bare
 * config (has `topic` or `bootstrap_servers`, no `_format_version`) gives itself.
 */
export function findKafkaLogPlugins(document: unknown): FoundPlugin[] {
  if (isPlainObject(document) && !('_format_version' in document)) {
    if (document.name === KAFKA_LOG_PLUGIN || 'bootstrap_servers' in document || 'topic' in document) {
      return [{ location: '(file)', plugin: document }];
    }
  }
  const found: FoundPlugin[] = [];
  walk(document, '', undefined, [], found);
  return found;
}

/** The declarative config's `certificates` by id, for plugins whose `security.certificate_id` names one. */
export function certificatesOf(document: unknown): Record<string, KongCertificate> {
  const out: Record<string, KongCertificate> = {};
  const list = isPlainObject(document) ? document.certificates : undefined;
  if (!Array.isArray(list)) return out;
  for (const item of list) {
    if (isPlainObject(item) && typeof item.id === 'string' && typeof item.cert === 'string' && typeof item.key === 'string') {
      out[item.id] = { cert: item.cert, key: item.key };
    }
  }
  return out;
}
