// The shipped schemas: the files under schemas/ equal what the package embeds; the JSON Schema is the entry's
// own logEntrySchema; each parses with the codec of its type.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { logEntrySchema } from '../../src/entry/schema.js';
import { parseAvroSchema } from '../../src/registry/avro.js';
import { kongLogEntrySchema } from '../../src/registry/index.js';
import { parseProtobufSchema } from '../../src/registry/protobuf.js';

const file = (name: string) => readFileSync(join(__dirname, '..', '..', 'schemas', name), 'utf8');

describe('schemas/', () => {
  it('kong-log-entry.avsc is the embedded Avro schema and parses', async () => {
    expect(JSON.parse(file('kong-log-entry.avsc'))).toEqual(JSON.parse(kongLogEntrySchema('AVRO')));
    expect((await parseAvroSchema(kongLogEntrySchema('AVRO'))).name).toBe('kafka_log.kong.KongLogEntry');
  });

  it('kong-log-entry.schema.json is the embedded JSON Schema and is logEntrySchema', () => {
    const shipped = JSON.parse(file('kong-log-entry.schema.json'));
    expect(shipped).toEqual(JSON.parse(kongLogEntrySchema('JSON')));
    expect({ ...shipped, $id: logEntrySchema.$id }).toEqual(JSON.parse(JSON.stringify(logEntrySchema)));
  });

  it('kong-log-entry.proto is the embedded Protobuf schema; KongLogEntry is its first message', async () => {
    expect(file('kong-log-entry.proto')).toBe(kongLogEntrySchema('PROTOBUF'));
    expect((await parseProtobufSchema(kongLogEntrySchema('PROTOBUF'))).message.fullName).toBe('.kafka_log.kong.v1.KongLogEntry');
  });
});
