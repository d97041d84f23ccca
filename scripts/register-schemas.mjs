#!/usr/bin/env node
// Registers kafka-log's ready-made Kong log-entry schema with a Confluent-compatible schema registry, through
// the package's own registerKongSchemas (build first: npm run build).
//
//   node scripts/register-schemas.mjs --url http://127.0.0.1:8081 --type avro --topic kong-logs
//   node scripts/register-schemas.mjs --url https://sr.example --type protobuf --subject my-subject
//
// The subject defaults to <topic>-value. Basic credentials come from the environment only (never argv, which
// other users can read): KAFKA_LOG_REGISTRY_USERNAME and KAFKA_LOG_REGISTRY_PASSWORD. --insecure skips TLS checks.

import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    url: { type: 'string' },
    type: { type: 'string' },
    topic: { type: 'string' },
    subject: { type: 'string' },
    insecure: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});

const TYPES = { avro: 'AVRO', json: 'JSON', protobuf: 'PROTOBUF' };
const usage = 'usage: register-schemas.mjs --url URL --type avro|json|protobuf (--topic TOPIC | --subject SUBJECT) [--insecure]';
if (values.help || !values.url || !TYPES[values.type] || !(values.topic || values.subject)) {
  process.stderr.write(`${usage}\n`);
  process.exit(values.help ? 0 : 2);
}

let registerKongSchemas;
try {
  ({ registerKongSchemas } = await import('../dist/index.mjs'));
} catch {
  // fall through to the message below
}
if (typeof registerKongSchemas !== 'function') {
  process.stderr.write('registerKongSchemas not found in dist/: run npm run build (the package index must export src/registry)\n');
  process.exit(1);
}

const username = process.env.KAFKA_LOG_REGISTRY_USERNAME;
const password = process.env.KAFKA_LOG_REGISTRY_PASSWORD;
const options = { url: values.url, sslVerify: !values.insecure };
if (username || password) options.auth = { mode: 'basic', username: username ?? '', password: password ?? '' };
const subject = values.subject ?? `${values.topic}-value`;

try {
  const { id } = await registerKongSchemas(options, { type: TYPES[values.type], subject });
  process.stdout.write(`${JSON.stringify({ subject, type: TYPES[values.type], id })}\n`);
} catch (error) {
  // kafka-log errors never carry credentials; print code and message only.
  process.stderr.write(`${error.code ?? 'ERROR'}: ${error.message}\n`);
  process.exit(1);
}
