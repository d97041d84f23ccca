/**
 * The JSON Schema codec: the entry is validated against the registered schema (Ajv; draft-07 unless the schema
 * names 2019-09 or 2020-12 in `$schema`) and written as JSON text, as Confluent's JSON Schema serializer does.
 * Unknown keys stay when the schema allows them. The first failing value is a {@link SchemaMismatchError}
 * naming its path. String formats are not checked.
 *
 * @module
 */

import type { default as AjvClass, ErrorObject, ValidateFunction } from 'ajv';
import { SchemaMismatchError } from '../errors.js';
import type { SchemaCodec } from './schema-codec.js';
import { loadOptional } from '../optional-dependency.js';

type AjvConstructor = typeof AjvClass;

/** `/request/headers/0` becomes `request.headers[0]`. */
function jsonPointerToPath(pointer: string): string {
  let path = '';
  for (const raw of pointer.split('/').slice(1)) {
    const segment = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    path = /^\d+$/.test(segment) ? `${path}[${segment}]` : path === '' ? segment : `${path}.${segment}`;
  }
  return path;
}

function describeFailure(error: ErrorObject): { path: string; problem: string } {
  let path = jsonPointerToPath(error.instancePath);
  const params = error.params as { missingProperty?: string; additionalProperty?: string };
  if (error.keyword === 'required' && params.missingProperty) {
    path = path === '' ? params.missingProperty : `${path}.${params.missingProperty}`;
    return { path, problem: 'required property is missing' };
  }
  if (error.keyword === 'additionalProperties' && params.additionalProperty) {
    path = path === '' ? params.additionalProperty : `${path}.${params.additionalProperty}`;
    return { path, problem: 'property is not allowed by the schema' };
  }
  return { path, problem: error.message ?? error.keyword };
}

async function ajvFor(schema: { $schema?: unknown }): Promise<AjvConstructor> {
  const draft = typeof schema.$schema === 'string' ? schema.$schema : '';
  if (draft.includes('2020-12')) return loadOptional<AjvConstructor>('ajv/dist/2020.js', 'JSON Schema 2020-12 schemas');
  if (draft.includes('2019-09')) return loadOptional<AjvConstructor>('ajv/dist/2019.js', 'JSON Schema 2019-09 schemas');
  return loadOptional<AjvConstructor>('ajv', 'JSON Schema schemas');
}

/** Creates the JSON Schema codec of a registered schema; `referencedSchemas` are `{ name, schema }` of its `$ref`s. */
export async function createJsonSchemaCodec(
  schema: string,
  referencedSchemas: readonly { name: string; schema: string }[] = [],
): Promise<SchemaCodec> {
  const parsed = JSON.parse(schema) as { $schema?: unknown };
  const Ajv = await ajvFor(parsed);
  // strict off: registered schemas often carry keywords (titles, connect hints) Ajv's strict mode rejects.
  const ajv = new Ajv({ strict: false, allErrors: false, validateFormats: false, logger: false });
  for (const referenced of referencedSchemas) ajv.addSchema(JSON.parse(referenced.schema) as object, referenced.name);
  const validate: ValidateFunction = ajv.compile(parsed as Record<string, unknown>);
  return {
    schemaType: 'JSON',
    encode(value) {
      if (!validate(value)) {
        const first = validate.errors?.[0];
        const failure = first ? describeFailure(first) : { path: '', problem: 'does not match the schema' };
        throw new SchemaMismatchError(failure.path, failure.problem);
      }
      return { payload: Buffer.from(JSON.stringify(value), 'utf8') };
    },
  };
}
