// Schema compatibility for the TEST schema registry (scripts/local-registry.mjs): the check a registry runs before
// it registers a new version under a subject, at the subject's compatibility level. A test stand-in, never
// exported by the package. The rules, per schema type (`reader` reads data written with `writer`):
//
// - AVRO: Avro's own schema resolution, through avsc (`reader.createResolver(writer)` throws when the reader cannot
//   read the writer's data: a field without a default added, a type changed beyond Avro's promotions, a renamed
//   record without an alias, an enum symbol removed without a default, ...).
// - JSON: the reader must accept every document the writer accepts (writer ⊆ reader). A sufficient, structural
//   rule: types may widen, `required` may shrink, bounds may loosen, properties are compared by name (an absent
//   one stands for `additionalProperties`, so a property added to an open object must accept anything), enum
//   values of the writer are validated against the reader with Ajv, and any keyword this rule does not analyse
//   (`$ref`, `not`, `if`, `patternProperties`, tuples, ...) must be unchanged. When unsure it says incompatible.
// - PROTOBUF: wire compatibility, in both directions alike: every message of the writer still exists in the
//   reader, and a field number present in both keeps its type, its cardinality (repeated, map) and its oneof.
//   Fields may be added or removed (an unknown field is skipped, a missing one reads as its default).
//
// Levels: BACKWARD (the new schema reads data of the previous one), FORWARD (the previous reads the new), FULL
// (both); the _TRANSITIVE forms check every live version, not only the latest; NONE checks nothing.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** Reasons `candidate` may not follow `previous` at `level` (empty: compatible). Both are `{ schemaType, schema, referenced }`. */
export function compatibilityProblems(level, candidate, previous) {
  if (level === 'NONE') return [];
  if (candidate.schemaType !== previous.schemaType) return [`schema type changed from ${previous.schemaType} to ${candidate.schemaType}`];
  const problems = [];
  const backward = level.startsWith('BACKWARD') || level.startsWith('FULL');
  const forward = level.startsWith('FORWARD') || level.startsWith('FULL');
  if (backward) problems.push(...readerProblems(candidate, previous).map((p) => `the new schema cannot read data of the earlier one: ${p}`));
  if (forward) problems.push(...readerProblems(previous, candidate).map((p) => `the earlier schema cannot read data of the new one: ${p}`));
  return problems;
}

/** Whether a level checks every live version (true) or only the latest. */
export function isTransitive(level) {
  return level.endsWith('_TRANSITIVE');
}

function readerProblems(reader, writer) {
  switch (reader.schemaType) {
    case 'AVRO':
      return avroProblems(reader, writer);
    case 'JSON':
      return jsonSchemaProblems(reader, writer);
    case 'PROTOBUF':
      return protobufProblems(reader, writer);
    default:
      return [`unknown schema type ${reader.schemaType}`];
  }
}

// ---------------------------------------------------------------------------------------------------------- Avro

/** Parses an Avro schema (and the schemas it references, first) with avsc; throws on an invalid schema. */
export function parseAvro(schema, referenced = []) {
  const avsc = require('avsc');
  const registry = {};
  for (const text of referenced) avsc.Type.forSchema(JSON.parse(text), { registry });
  return avsc.Type.forSchema(JSON.parse(schema), { registry });
}

function avroProblems(reader, writer) {
  try {
    parseAvro(reader.schema, reader.referenced).createResolver(parseAvro(writer.schema, writer.referenced));
    return [];
  } catch (error) {
    return [error.message];
  }
}

// ------------------------------------------------------------------------------------------------- JSON Schema

const ANNOTATIONS = new Set(['$schema', '$id', '$comment', 'title', 'description', 'default', 'examples', 'deprecated', 'readOnly', 'writeOnly', 'definitions', '$defs']);
const LOWER_BOUNDS = ['minimum', 'exclusiveMinimum', 'minLength', 'minItems', 'minProperties'];
const UPPER_BOUNDS = ['maximum', 'exclusiveMaximum', 'maxLength', 'maxItems', 'maxProperties'];
const MUST_STAY = ['pattern', 'format', 'multipleOf', 'uniqueItems', 'contentEncoding', 'contentMediaType'];
const ANALYSED = new Set([...ANNOTATIONS, ...LOWER_BOUNDS, ...UPPER_BOUNDS, ...MUST_STAY, 'type', 'enum', 'const', 'properties', 'required', 'additionalProperties', 'items', 'anyOf', 'oneOf']);
const ALL_TYPES = ['null', 'boolean', 'object', 'array', 'number', 'integer', 'string'];

const isAny = (s) => s === true || (isObject(s) && Object.keys(s).every((k) => ANNOTATIONS.has(k)));
const isNothing = (s) => s === false;
const isObject = (v) => typeof v === 'object' && v !== null && !Array.isArray(v);
const sameJson = (a, b) => JSON.stringify(sortKeys(a)) === JSON.stringify(sortKeys(b));

function sortKeys(value) {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (!isObject(value)) return value;
  return Object.fromEntries(Object.keys(value).sort().map((k) => [k, sortKeys(value[k])]));
}

function typesOf(schema) {
  if (!isObject(schema) || schema.type === undefined) return ALL_TYPES;
  return Array.isArray(schema.type) ? schema.type : [schema.type];
}

function coversType(readerTypes, type) {
  return readerTypes.includes(type) || (type === 'integer' && readerTypes.includes('number'));
}

/** Compiles a JSON Schema with the Ajv draft it names (for enum values: exact membership checks). */
function compileJsonSchema(schema) {
  const draft = isObject(schema) && typeof schema.$schema === 'string' ? schema.$schema : '';
  const Ajv = draft.includes('2020-12') ? require('ajv/dist/2020.js') : draft.includes('2019-09') ? require('ajv/dist/2019.js') : require('ajv');
  const AjvClass = Ajv.default ?? Ajv;
  return new AjvClass({ strict: false, validateFormats: false, logger: false }).compile(schema);
}

function jsonSchemaProblems(reader, writer) {
  const problems = [];
  const readerSchema = JSON.parse(reader.schema);
  const writerSchema = JSON.parse(writer.schema);
  if ((reader.referenced?.length ?? 0) + (writer.referenced?.length ?? 0) > 0 && !sameJson(reader.referenced ?? [], writer.referenced ?? []))
    problems.push('referenced schemas changed (not analysed)');
  const root = { reader: readerSchema, writer: writerSchema };
  subset(writerSchema, readerSchema, '#', problems, root);
  return problems;
}

/** Adds to `problems` why some document valid under `writer` may be invalid under `reader` (at `path`). */
function subset(writer, reader, path, problems, root) {
  if (isAny(reader) || isNothing(writer)) return;
  if (isNothing(reader)) return void problems.push(`${path}: the new schema accepts nothing here`);
  if (isAny(writer)) return void problems.push(`${path}: constrained where it accepted anything`);
  if (!isObject(writer) || !isObject(reader)) return void problems.push(`${path}: not a schema`);

  // Exact for enumerations: every value the writer allows must validate under the reader.
  const values = writer.enum ?? (writer.const !== undefined ? [writer.const] : undefined);
  if (values !== undefined) {
    try {
      const validate = compileJsonSchema({ ...(isObject(root.reader) && root.reader.$schema ? { $schema: root.reader.$schema } : {}), ...reader });
      for (const value of values) if (!validate(value)) problems.push(`${path}: value ${JSON.stringify(value)} no longer allowed`);
    } catch (error) {
      problems.push(`${path}: ${error.message}`);
    }
    return;
  }
  if (reader.enum !== undefined || reader.const !== undefined) return void problems.push(`${path}: now limited to fixed values`);

  for (const key of new Set([...Object.keys(writer), ...Object.keys(reader)])) {
    if (!ANALYSED.has(key) && !sameJson(writer[key], reader[key])) problems.push(`${path}: "${key}" changed (not analysed)`);
  }

  const unions = (s) => s.anyOf ?? s.oneOf;
  if (unions(writer) !== undefined || unions(reader) !== undefined) {
    const rest = (s) => Object.fromEntries(Object.entries(s).filter(([k]) => k !== 'anyOf' && k !== 'oneOf' && !ANNOTATIONS.has(k)));
    if (Object.keys(rest(writer)).length > 0 || Object.keys(rest(reader)).length > 0 || reader.oneOf !== undefined) {
      if (!sameJson(writer, reader)) problems.push(`${path}: a union changed beside other keywords (not analysed)`);
      return;
    }
    // Every branch the writer allows must fit one branch of the reader (or the reader itself when not a union).
    const writerBranches = unions(writer) ?? [writer];
    const readerBranches = unions(reader) ?? [reader];
    writerBranches.forEach((branch, i) => {
      const fits = readerBranches.some((candidate) => {
        const found = [];
        subset(branch, candidate, `${path}/${i}`, found, root);
        return found.length === 0;
      });
      if (!fits) problems.push(`${path}: union branch ${i} no longer accepted`);
    });
    return;
  }

  const writerTypes = typesOf(writer);
  const readerTypes = typesOf(reader);
  for (const type of writerTypes) if (!coversType(readerTypes, type)) problems.push(`${path}: type ${type} no longer accepted`);

  for (const key of LOWER_BOUNDS) {
    if (reader[key] !== undefined && !(writer[key] !== undefined && writer[key] >= reader[key])) problems.push(`${path}: ${key} raised`);
  }
  for (const key of UPPER_BOUNDS) {
    if (reader[key] !== undefined && !(writer[key] !== undefined && writer[key] <= reader[key])) problems.push(`${path}: ${key} lowered`);
  }
  for (const key of MUST_STAY) {
    if (reader[key] !== undefined && !sameJson(writer[key], reader[key])) problems.push(`${path}: ${key} changed`);
  }

  if (writerTypes.includes('object') && readerTypes.includes('object')) {
    const writerRequired = new Set(writer.required ?? []);
    for (const name of reader.required ?? []) if (!writerRequired.has(name)) problems.push(`${path}: "${name}" became required`);
    const additional = (s) => (s.additionalProperties === undefined ? true : s.additionalProperties);
    const property = (s, name) => (isObject(s.properties) && Object.hasOwn(s.properties, name) ? s.properties[name] : additional(s));
    const names = new Set([...Object.keys(writer.properties ?? {}), ...Object.keys(reader.properties ?? {})]);
    for (const name of names) subset(property(writer, name), property(reader, name), `${path}/properties/${name}`, problems, root);
    subset(additional(writer), additional(reader), `${path}/additionalProperties`, problems, root);
  }
  if (writerTypes.includes('array') && readerTypes.includes('array')) {
    const items = (s) => (s.items === undefined ? true : s.items);
    if (Array.isArray(items(writer)) || Array.isArray(items(reader))) {
      if (!sameJson(items(writer), items(reader))) problems.push(`${path}: tuple items changed (not analysed)`);
    } else {
      subset(items(writer), items(reader), `${path}/items`, problems, root);
    }
  }
}

// --------------------------------------------------------------------------------------------------- Protobuf

/** Parses a .proto text (and the texts it references) with protobufjs; throws on an invalid schema. */
export function parseProtobuf(schema, referenced = []) {
  const protobuf = require('protobufjs');
  const root = new protobuf.Root();
  for (const text of referenced) protobuf.parse(text, root, { keepCase: true });
  const parsed = protobuf.parse(schema, root, { keepCase: true });
  for (const name of parsed.imports ?? []) {
    const common = protobuf.common.get(name);
    if (common) root.addJSON(common.nested);
  }
  root.resolveAll();
  return root;
}

function messagesOf(root) {
  const protobuf = require('protobufjs');
  const found = new Map();
  const visit = (namespace) => {
    for (const nested of namespace.nestedArray ?? []) {
      if (nested instanceof protobuf.Type) found.set(nested.fullName, nested);
      if (nested.nestedArray) visit(nested);
    }
  };
  visit(root);
  return found;
}

function protobufProblems(reader, writer) {
  const problems = [];
  let readerMessages;
  let writerMessages;
  try {
    readerMessages = messagesOf(parseProtobuf(reader.schema, reader.referenced));
    writerMessages = messagesOf(parseProtobuf(writer.schema, writer.referenced));
  } catch (error) {
    return [error.message];
  }
  for (const [name, written] of writerMessages) {
    const read = readerMessages.get(name);
    if (!read) {
      problems.push(`message ${name} removed`);
      continue;
    }
    for (const field of written.fieldsArray) {
      const other = read.fieldsById[field.id];
      if (!other) continue;
      const shape = (f) => `${f.map ? `map<${f.keyType},${f.type}>` : f.type}${f.repeated ? '[]' : ''}${f.partOf ? ` in oneof ${f.partOf.name}` : ''}`;
      if (shape(field) !== shape(other)) problems.push(`${name} field ${field.id}: ${shape(field)} became ${shape(other)}`);
    }
  }
  return problems;
}

// ------------------------------------------------------------------------------------------------- validation

/** Throws (with the parser's reason) when `schema` is not a valid schema of its type. */
export function assertValidSchema(schemaType, schema, referenced = []) {
  if (schemaType === 'AVRO') return void parseAvro(schema, referenced);
  if (schemaType === 'PROTOBUF') return void parseProtobuf(schema, referenced);
  const parsed = JSON.parse(schema);
  if (parsed === null || (typeof parsed !== 'object' && typeof parsed !== 'boolean')) throw new Error('not a JSON Schema');
  if (referenced.length === 0) compileJsonSchema(parsed);
}
