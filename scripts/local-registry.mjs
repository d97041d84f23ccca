#!/usr/bin/env node
// A TEST schema registry: the Confluent Schema Registry REST endpoints that Confluent's own clients (Python
// SchemaRegistryClient, the kafkajs registry client) and kafka-log call, in memory, with node:http only.
// It exists because no real registry can be had here (Confluent's is not on Maven Central, Karapace is not on
// PyPI, Apicurio does not resolve). It is a test and demo tool: never exported by the package, never for production.
// Schemas are parsed in full before they are stored (avsc, Ajv, protobufjs: an invalid one is a 422), and a new
// version of a subject must pass the subject's compatibility level (global default BACKWARD), checked by
// ./registry-compatibility.mjs: an incompatible one is refused with Confluent's 409.
//
//   import { startTestRegistry } from './scripts/local-registry.mjs';
//   const registry = await startTestRegistry({ port: 0, basicAuth: { username, password } });
//   registry.url; await registry.stop(); await registry.start(); await registry.close();
//
// CLI (demo): node scripts/local-registry.mjs [--port 8081] [--data .local/registry/data.json]

import { readFileSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { createServer } from 'node:http';
import { dirname } from 'node:path';
import { timingSafeEqual, randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { assertValidSchema, compatibilityProblems, isTransitive } from './registry-compatibility.mjs';

const CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json';
const SCHEMA_TYPES = ['AVRO', 'JSON', 'PROTOBUF'];
const COMPATIBILITY_LEVELS = ['NONE', 'BACKWARD', 'BACKWARD_TRANSITIVE', 'FORWARD', 'FORWARD_TRANSITIVE', 'FULL', 'FULL_TRANSITIVE'];

/** An error answered as Confluent does: HTTP status plus `{ error_code, message }`. */
class RegistryHttpError extends Error {
  constructor(status, errorCode, message) {
    super(message);
    this.status = status;
    this.errorCode = errorCode;
  }
}

const subjectNotFound = (subject) => new RegistryHttpError(404, 40401, `Subject '${subject}' not found.`);
const versionNotFound = (version) => new RegistryHttpError(404, 40402, `Version ${version} not found.`);
const schemaNotFound = () => new RegistryHttpError(404, 40403, 'Schema not found');
const invalidSchema = (reason) => new RegistryHttpError(422, 42201, `Invalid schema: ${reason}`);
const incompatibleSchema = (subject, problems) =>
  new RegistryHttpError(409, 409, `Schema being registered is incompatible with an earlier schema for subject "${subject}", details: [${problems.join('; ')}]`);
const invalidVersion = (version) =>
  new RegistryHttpError(
    422,
    42202,
    `The specified version '${version}' is not a valid version id. Allowed values are between [1, 2^31-1] and the string "latest"`,
  );

function emptyState() {
  return { nextId: 1, schemas: [], subjects: {}, globalCompatibility: 'BACKWARD', subjectCompatibility: {} };
}

/** Same schema text regardless of whitespace and key layout, so re-registering gives the same id (AVRO, JSON). */
function canonical(schemaType, schema) {
  if (schemaType === 'PROTOBUF') return schema.replace(/\s+/g, ' ').trim();
  return JSON.stringify(JSON.parse(schema));
}

function sameReferences(a = [], b = []) {
  return JSON.stringify(a) === JSON.stringify(b);
}

function checkSchema(schemaType, schema, referenced) {
  if (typeof schema !== 'string' || schema.length === 0) throw invalidSchema('schema must be a non-empty string');
  try {
    assertValidSchema(schemaType, schema, referenced);
  } catch (error) {
    throw invalidSchema(error.message);
  }
}

/**
 * Starts the test registry. Options: `port` (0 or absent: a free port), `host` (default 127.0.0.1),
 * `basicAuth` `{ username, password }`, `oauth2` `{ clientId, clientSecret }` (serves `POST /oauth/token`
 * with the client-credentials grant and accepts the bearer tokens it issued), `dataFile` (persist to JSON so
 * a restarted process keeps ids), `confluentCloudHeaders` (require `target-sr-cluster` and
 * `Confluent-Identity-Pool-Id`, as Confluent Cloud does for OAuth).
 */
export async function startTestRegistry(options = {}) {
  const host = options.host ?? '127.0.0.1';
  const dataFile = options.dataFile;
  let state = dataFile && existsSync(dataFile) ? JSON.parse(readFileSync(dataFile, 'utf8')) : emptyState();
  const issuedTokens = new Set();
  const requests = [];
  const sockets = new Set();
  let server;
  let port = options.port ?? 0;

  function persist() {
    if (!dataFile) return;
    mkdirSync(dirname(dataFile), { recursive: true });
    writeFileSync(dataFile, JSON.stringify(state, null, 2));
  }

  const liveVersions = (subject) => (state.subjects[subject] ?? []).filter((v) => !v.deleted);

  function subjectVersions(subject) {
    const versions = liveVersions(subject);
    if (versions.length === 0) throw subjectNotFound(subject);
    return versions;
  }

  function findVersion(subject, versionParam) {
    const versions = subjectVersions(subject);
    if (versionParam === 'latest' || versionParam === '-1') return versions[versions.length - 1];
    if (!/^\d+$/.test(versionParam) || Number(versionParam) < 1) throw invalidVersion(versionParam);
    const found = versions.find((v) => v.version === Number(versionParam));
    if (!found) throw versionNotFound(versionParam);
    return found;
  }

  const schemaById = (id) => state.schemas.find((s) => s.id === id);

  function schemaBody(record, format) {
    const body = { schema: format === 'serialized' && record.schemaType === 'PROTOBUF' ? serializedProto(record) : record.schema };
    // Confluent leaves schemaType out for Avro, the default.
    if (record.schemaType !== 'AVRO') body.schemaType = record.schemaType;
    if (record.references?.length) body.references = record.references;
    return body;
  }

  function versionBody(subject, version, format) {
    return { subject, version: version.version, id: version.id, ...schemaBody(schemaById(version.id), format) };
  }

  // Confluent's Python client asks for Protobuf schemas with ?format=serialized: a base64 FileDescriptorProto.
  function serializedProto(record) {
    const referenced = (record.references ?? []).map((ref) => schemaById(findVersion(ref.subject, String(ref.version)).id).schema);
    return protoToFileDescriptor(record.schema, referenced);
  }

  function readSchemaRequest(body) {
    if (body === null || typeof body !== 'object') throw new RegistryHttpError(422, 42201, 'Invalid schema: body must be a JSON object');
    const schemaType = body.schemaType ?? 'AVRO';
    if (!SCHEMA_TYPES.includes(schemaType)) throw new RegistryHttpError(422, 42201, `Invalid schema: unknown schemaType ${schemaType}`);
    const references = body.references ?? [];
    for (const ref of references) {
      if (!ref || typeof ref.name !== 'string' || typeof ref.subject !== 'string' || !Number.isInteger(ref.version))
        throw invalidSchema('each reference needs name, subject and version');
    }
    const referenced = referencedTexts(references);
    checkSchema(schemaType, body.schema, referenced);
    return { schemaType, schema: body.schema, references, referenced, key: canonical(schemaType, body.schema) };
  }

  /** The texts of the schemas `references` name, those they reference first (depth first, each once). */
  function referencedTexts(references, seen = new Set()) {
    const texts = [];
    for (const ref of references) {
      const key = `${ref.subject}/${ref.version}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const record = schemaById(findVersion(ref.subject, String(ref.version)).id);
      texts.push(...referencedTexts(record.references ?? [], seen), record.schema);
    }
    return texts;
  }

  const levelOf = (subject) => state.subjectCompatibility[subject] ?? state.globalCompatibility;

  /** Why `request` may not be registered after the live versions of `subject` (empty: it may). */
  function incompatibilities(subject, request, versions = liveVersions(subject)) {
    const level = levelOf(subject);
    const against = isTransitive(level) ? versions : versions.slice(-1);
    return against.flatMap((v) => {
      const record = schemaById(v.id);
      const previous = { schemaType: record.schemaType, schema: record.schema, referenced: referencedTexts(record.references ?? []) };
      return compatibilityProblems(level, request, previous).map((p) => `version ${v.version}: ${p}`);
    });
  }

  function sameSchema(record, request) {
    return record.schemaType === request.schemaType && record.key === request.key && sameReferences(record.references, request.references);
  }

  function register(subject, body) {
    const request = readSchemaRequest(body);
    const existing = liveVersions(subject).find((v) => sameSchema(schemaById(v.id), request));
    if (existing) return { id: existing.id };
    const problems = incompatibilities(subject, request);
    if (problems.length > 0) throw incompatibleSchema(subject, problems);
    let record = state.schemas.find((s) => sameSchema(s, request));
    if (!record) {
      record = { id: state.nextId++, schemaType: request.schemaType, schema: request.schema, references: request.references, key: request.key };
      state.schemas.push(record);
    }
    const all = state.subjects[subject] ?? [];
    const version = all.length === 0 ? 1 : all[all.length - 1].version + 1;
    state.subjects[subject] = [...all, { version, id: record.id }];
    persist();
    return { id: record.id };
  }

  function lookup(subject, body) {
    const versions = subjectVersions(subject);
    const request = readSchemaRequest(body);
    const found = versions.find((v) => sameSchema(schemaById(v.id), request));
    if (!found) throw schemaNotFound();
    return versionBody(subject, found);
  }

  function readCompatibility(body) {
    const level = body?.compatibility ?? body?.compatibilityLevel;
    const levels = 'none, backward, forward, full, backward_transitive, forward_transitive, and full_transitive';
    if (!COMPATIBILITY_LEVELS.includes(level)) throw new RegistryHttpError(422, 42203, `Invalid compatibility level. Valid values are ${levels}`);
    return level;
  }

  function issueToken(rawBody, headers) {
    const form = new URLSearchParams(rawBody);
    let clientId = form.get('client_id');
    let clientSecret = form.get('client_secret');
    const basic = parseBasic(headers.authorization);
    if (basic) [clientId, clientSecret] = [basic.username, basic.password];
    const expected = options.oauth2;
    const granted = form.get('grant_type') === 'client_credentials';
    if (!expected || !granted || !safeEqual(clientId, expected.clientId) || !safeEqual(clientSecret, expected.clientSecret))
      return { status: 401, body: { error: 'invalid_client' }, contentType: 'application/json' };
    const token = randomBytes(16).toString('hex');
    issuedTokens.add(token);
    const body = { access_token: token, token_type: 'Bearer', expires_in: 3600, scope: form.get('scope') ?? '' };
    return { status: 200, body, contentType: 'application/json' };
  }

  function authorized(headers) {
    if (!options.basicAuth && !options.oauth2) return true;
    const auth = headers.authorization ?? '';
    if (options.basicAuth) {
      const basic = parseBasic(auth);
      if (basic && safeEqual(basic.username, options.basicAuth.username) && safeEqual(basic.password, options.basicAuth.password)) return true;
    }
    if (options.oauth2 && auth.startsWith('Bearer ') && issuedTokens.has(auth.slice(7))) {
      if (!options.confluentCloudHeaders) return true;
      return Boolean(headers['target-sr-cluster'] && headers['confluent-identity-pool-id']);
    }
    return false;
  }

  function route(method, path, query, body) {
    const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
    const [first, second, third, fourth, fifth] = parts;
    if (method === 'GET' && parts.length === 0) return {};
    if (first === 'schemas') {
      if (method === 'GET' && second === 'types' && parts.length === 2) return SCHEMA_TYPES;
      if (method === 'GET' && second === 'ids' && parts.length >= 3) {
        const record = schemaById(Number(third));
        if (!record) throw schemaNotFound();
        if (parts.length === 3) return schemaBody(record, query.get('format'));
        if (fourth === 'schema' && parts.length === 4) return record.schema;
        if (fourth === 'versions' && parts.length === 4)
          return Object.entries(state.subjects).flatMap(([subject, versions]) =>
            versions.filter((v) => v.id === record.id && !v.deleted).map((v) => ({ subject, version: v.version })));
      }
    }
    if (first === 'subjects') {
      if (method === 'GET' && parts.length === 1) return Object.keys(state.subjects).filter((s) => liveVersions(s).length > 0);
      if (method === 'POST' && parts.length === 2) return lookup(second, body);
      if (method === 'DELETE' && parts.length === 2) {
        const versions = subjectVersions(second);
        for (const v of versions) v.deleted = true;
        persist();
        return versions.map((v) => v.version);
      }
      if (third === 'versions') {
        if (method === 'GET' && parts.length === 3) return subjectVersions(second).map((v) => v.version);
        if (method === 'POST' && parts.length === 3) return register(second, body);
        if (method === 'GET' && parts.length === 4) return versionBody(second, findVersion(second, fourth), query.get('format'));
        if (method === 'GET' && parts.length === 5 && fifth === 'schema') return schemaById(findVersion(second, fourth).id).schema;
        if (method === 'DELETE' && parts.length === 4) {
          const version = findVersion(second, fourth);
          version.deleted = true;
          persist();
          return version.version;
        }
      }
    }
    if (first === 'config') {
      if (parts.length === 1 && method === 'GET') return { compatibilityLevel: state.globalCompatibility };
      if (parts.length === 1 && method === 'PUT') {
        state.globalCompatibility = readCompatibility(body);
        persist();
        return { compatibility: state.globalCompatibility };
      }
      if (parts.length === 2 && method === 'GET') {
        const level = state.subjectCompatibility[second];
        if (level) return { compatibilityLevel: level };
        if (query.get('defaultToGlobal') === 'true') return { compatibilityLevel: state.globalCompatibility };
        throw new RegistryHttpError(404, 40408, `Subject '${second}' does not have subject-level compatibility configured`);
      }
      if (parts.length === 2 && method === 'PUT') {
        state.subjectCompatibility[second] = readCompatibility(body);
        persist();
        return { compatibility: state.subjectCompatibility[second] };
      }
    }
    if (first === 'compatibility' && method === 'POST' && second === 'subjects' && fourth === 'versions') {
      const request = readSchemaRequest(body);
      const versions = parts.length === 4 ? liveVersions(third) : [findVersion(third, fifth)];
      const problems = versions.length === 0 ? [] : incompatibilities(third, request, versions);
      return query.get('verbose') === 'true' ? { is_compatible: problems.length === 0, messages: problems } : { is_compatible: problems.length === 0 };
    }
    throw new RegistryHttpError(404, 404, 'HTTP 404 Not Found');
  }

  async function handle(req, res) {
    const url = new URL(req.url ?? '/', 'http://registry.test');
    requests.push({ method: req.method, path: url.pathname });
    const chunks = [];
    for await (const chunk of req) chunks.push(chunk);
    const rawBody = Buffer.concat(chunks).toString('utf8');
    const send = (status, body, contentType = CONTENT_TYPE) => {
      const text = JSON.stringify(body);
      res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(text) });
      res.end(text);
    };
    try {
      if (req.method === 'POST' && url.pathname === '/oauth/token') {
        const answer = issueToken(rawBody, req.headers);
        return send(answer.status, answer.body, answer.contentType);
      }
      if (!authorized(req.headers)) throw new RegistryHttpError(401, 401, 'Unauthorized');
      let body;
      if (rawBody.length > 0) {
        try {
          body = JSON.parse(rawBody);
        } catch {
          throw new RegistryHttpError(400, 400, 'Unrecognized request body: not JSON');
        }
      }
      send(200, route(req.method, url.pathname, url.searchParams, body));
    } catch (error) {
      if (error instanceof RegistryHttpError) return send(error.status, { error_code: error.errorCode, message: error.message });
      send(500, { error_code: 50001, message: `Error in the backend data store: ${error.message}` });
    }
  }

  async function start() {
    if (server) return;
    server = createServer((req, res) => void handle(req, res));
    server.on('connection', (socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    port = server.address().port;
  }

  async function stop() {
    if (!server) return;
    const closing = server;
    server = undefined;
    // Drop kept-alive connections too, so clients see a dead registry at once (the outage tests need that).
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => closing.close(() => resolve()));
  }

  await start();
  return {
    get url() {
      return `http://${host}:${port}`;
    },
    get port() {
      return port;
    },
    get running() {
      return server !== undefined;
    },
    requests,
    start,
    stop,
    close: stop,
    reset() {
      state = emptyState();
      issuedTokens.clear();
      requests.length = 0;
      persist();
    },
  };
}

/** The FileDescriptorProto of a .proto text, base64, as Confluent's registry serves it (protobufjs does the parsing). */
function protoToFileDescriptor(schemaText, referencedTexts) {
  const require = createRequire(import.meta.url);
  const protobuf = require('protobufjs');
  const descriptor = require('protobufjs/ext/descriptor');
  const parsed = protobuf.parse(schemaText, { keepCase: true });
  const root = parsed.root;
  for (const text of referencedTexts) protobuf.parse(text, root, { keepCase: true });
  for (const name of parsed.imports ?? []) {
    const common = protobuf.common.get(name);
    if (common) root.addJSON(common.nested);
  }
  root.resolveAll();
  const files = root.toDescriptor('proto3').file;
  const file = files.find((f) => (f.package ?? '') === (parsed.package ?? '')) ?? files[0];
  file.name = 'schema.proto';
  file.dependency = parsed.imports ?? [];
  for (const message of file.messageType ?? []) {
    markProto3Optional(message);
    exclusiveReservedEnds(message, root.lookupType(parsed.package ? `${parsed.package}.${message.name}` : message.name));
  }
  return Buffer.from(descriptor.FileDescriptorProto.encode(file).finish()).toString('base64');
}

// A message's reserved ranges end exclusively in a descriptor (descriptor.proto's ReservedRange), inclusively in
// .proto text and in protobufjs; protobufjs 7 copies its inclusive ends into descriptors (fixed in protobufjs 8), which
// Python's protobuf refuses ("Reserved range (16, 16) is invalid"). Written here from the parsed type's own ranges.
function exclusiveReservedEnds(message, type) {
  const ranges = (type.reserved ?? []).filter((range) => Array.isArray(range));
  message.reservedRange = ranges.map(([start, end]) => ({ start, end: end + 1 }));
  for (const nested of message.nestedType ?? []) {
    // Map entries are descriptor-only types, without a protobufjs type (and without reserved ranges).
    const inner = type.get(nested.name);
    if (inner !== null && Array.isArray(inner.fieldsArray)) exclusiveReservedEnds(nested, inner);
  }
}

// protobufjs writes proto3 `optional` as a one-field oneof named `_field` without the proto3_optional flag.
function markProto3Optional(message) {
  for (const field of message.field ?? []) {
    const oneof = message.oneofDecl?.[field.oneofIndex];
    if (field.oneofIndex !== undefined && field.oneofIndex !== null && oneof?.name === `_${field.name}`) field.proto3Optional = true;
  }
  for (const nested of message.nestedType ?? []) markProto3Optional(nested);
}

function parseBasic(header) {
  if (typeof header !== 'string' || !header.startsWith('Basic ')) return undefined;
  const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return { username: decodeURIComponent(decoded.slice(0, colon)), password: decodeURIComponent(decoded.slice(colon + 1)) };
}

function safeEqual(a, b) {
  if (typeof a !== 'string' || typeof b !== 'string') return false;
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

function argValue(name) {
  const index = process.argv.indexOf(name);
  return index > 0 ? process.argv[index + 1] : undefined;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const registry = await startTestRegistry({
    port: Number(argValue('--port') ?? 8081),
    dataFile: argValue('--data') ?? '.local/registry/data.json',
  });
  process.stdout.write(`TEST schema registry (not for production) listening on ${registry.url}\n`);
  const shutdown = () => void registry.close().then(() => process.exit(0));
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
}
