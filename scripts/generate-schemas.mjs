#!/usr/bin/env node
// Writes the ready-made schemas of the log entry under schemas/ (Avro, JSON Schema, Protobuf): the texts the
// package registers (`kongLogEntrySchema`, derived from src/entry/definition.ts) with a "generated" header.
// Reads the build (npm run generate:schemas builds first). test/unit/registry-schemas.test.ts regenerates them
// into a temporary folder from the sources and fails on any difference.
//
//   node scripts/generate-schemas.mjs [--out DIR]

import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const NOTE = 'Generated from src/entry/definition.ts by `npm run generate:schemas`. Do not edit.';

/** The files of schemas/, name to text, from the package's `kongLogEntrySchema`. */
export function schemaFiles(kongLogEntrySchema) {
  // JSON has no comments: the note is a `$comment` (a JSON Schema keyword; in Avro, a metadata attribute).
  const json = (type) => `${JSON.stringify({ $comment: NOTE, ...JSON.parse(kongLogEntrySchema(type)) }, null, 2)}\n`;
  return {
    'kong-log-entry.avsc': json('AVRO'),
    'kong-log-entry.schema.json': json('JSON'),
    'kong-log-entry.proto': `// ${NOTE}\n${kongLogEntrySchema('PROTOBUF')}`,
  };
}

/** Writes {@link schemaFiles} into `dir`; returns the paths written. */
export function writeSchemaFiles(dir, kongLogEntrySchema) {
  mkdirSync(dir, { recursive: true });
  return Object.entries(schemaFiles(kongLogEntrySchema)).map(([name, text]) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..');
  const { values } = parseArgs({ options: { out: { type: 'string', default: join(root, 'schemas') } } });
  const { kongLogEntrySchema } = await import('../dist/index.mjs');
  for (const path of writeSchemaFiles(values.out, kongLogEntrySchema)) process.stdout.write(`wrote ${path}\n`);
}
