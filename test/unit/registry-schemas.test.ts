// The shipped schemas: the files under schemas/ are generated (npm run generate:schemas) from the texts the package
// registers, which are derived from the entry definition. Regenerated here into a temporary folder from the sources:
// any difference fails. Each file also parses with the codec of its type.
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeSchemaFiles } from '../../scripts/generate-schemas.mjs';
import { LOG_ENTRY } from '../../src/entry/definition.js';
import { logEntrySchema } from '../../src/entry/schema.js';
import { ErrorCodes } from '../../src/errors.js';
import { AVRO_CUSTOM_FIELD, parseAvroSchema } from '../../src/registry/avro.js';
import { kongLogEntrySchema } from '../../src/registry/index.js';
import { PROTOBUF_CUSTOM_FIELD, parseProtobufSchema } from '../../src/registry/protobuf.js';
import type { SchemaType } from '../../src/registry/client.js';

const shipped = join(__dirname, '..', '..', 'schemas');
const file = (name: string) => readFileSync(join(shipped, name), 'utf8');
const regenerated = mkdtempSync(join(tmpdir(), 'kafka-log-schemas-'));
afterAll(() => rmSync(regenerated, { recursive: true, force: true }));

describe('schemas/', () => {
  const written = writeSchemaFiles(regenerated, kongLogEntrySchema);

  it('holds exactly the generated files, each byte for byte what npm run generate:schemas writes', () => {
    expect(readdirSync(shipped).sort()).toEqual(readdirSync(regenerated).sort());
    expect(written).toHaveLength(3);
    for (const path of written) {
      const name = path.slice(regenerated.length + 1);
      expect(file(name), `schemas/${name} is out of date: run npm run generate:schemas`).toBe(readFileSync(path, 'utf8'));
    }
  });

  it('each file says it is generated', () => {
    for (const name of ['kong-log-entry.avsc', 'kong-log-entry.schema.json']) expect(JSON.parse(file(name)).$comment).toMatch(/^Generated .* Do not edit\.$/);
    expect(file('kong-log-entry.proto').split('\n')[0]).toMatch(/^\/\/ Generated .* Do not edit\.$/);
  });

  it('kong-log-entry.avsc parses as Avro: the record KongLogEntry', async () => {
    expect((await parseAvroSchema(file('kong-log-entry.avsc'))).name).toBe('kafka_log.kong.KongLogEntry');
  });

  it('kong-log-entry.schema.json is logEntrySchema under the id it is registered with', () => {
    const { $comment, ...schema } = JSON.parse(file('kong-log-entry.schema.json'));
    expect(schema).toEqual(JSON.parse(kongLogEntrySchema('JSON')));
    expect({ ...schema, $id: logEntrySchema.$id }).toEqual(JSON.parse(JSON.stringify(logEntrySchema)));
    expect(schema.$id).toBe('kafka-log/kong-log-entry');
  });

  it('kong-log-entry.proto parses; KongLogEntry is its first message', async () => {
    expect((await parseProtobufSchema(file('kong-log-entry.proto'))).message.fullName).toBe('.kafka_log.kong.v1.KongLogEntry');
  });

  it('custom fields go where the Avro and Protobuf codecs look for them', () => {
    expect(LOG_ENTRY.extraKeysField.name).toBe(AVRO_CUSTOM_FIELD);
    expect(LOG_ENTRY.extraKeysField.name).toBe(PROTOBUF_CUSTOM_FIELD);
  });

  it('kongLogEntrySchema refuses a type it does not know with a typed error', () => {
    expect(() => kongLogEntrySchema('XML' as SchemaType)).toThrow(expect.objectContaining({ code: ErrorCodes.INVALID_OPTION }));
  });
});
