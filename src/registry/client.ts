/**
 * `RegistryClient`: the few Confluent Schema Registry REST calls kafka-log needs (resolve a subject version,
 * fetch a schema by id, register a schema), with basic or OAuth 2 authentication. It never retries: the
 * publisher owns retries, and a {@link RegistryError}'s `retriable` flag tells it whether to.
 *
 * @module
 */

import { RegistryError, SchemaIncompatibleError } from '../errors.js';
import { HttpClient, type HttpFailure, describeUrl, isRetriableStatus } from '../http-client/request.js';
import { OAuthTokenSource } from '../http-client/oauth-token-source.js';
import { SecretSet } from '../secrets.js';
import type { RegistryAuth, ResolvedRegistryOptions } from './registry-options.js';

/** The schema types a Confluent registry holds. */
export type SchemaType = 'AVRO' | 'JSON' | 'PROTOBUF';

/** A reference from one schema to another registered one (Protobuf imports, JSON `$ref`, Avro named types). */
export interface SchemaReference {
  /** The name the referring schema uses (import path, `$ref` URL, Avro full name). */
  name: string;
  /** Subject of the referenced schema. */
  subject: string;
  /** Version of the referenced schema. */
  version: number;
}

/** A schema as the registry holds it. */
interface RegistrySchema {
  /** The schema text. */
  schema: string;
  /** Its type (the registry leaves it out for Avro). */
  schemaType: SchemaType;
  /** Schemas it refers to. */
  references: SchemaReference[];
}

/** A schema registered under a subject. */
export interface SubjectVersion extends RegistrySchema {
  /** The subject. */
  subject: string;
  /** The version within the subject. */
  version: number;
  /** The registry-wide schema id written into every message. */
  id: number;
}

const CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json';

/**
 * Longest registry answer read, bytes. A schema answer carries the schema text (Kong's entry schemas are a few
 * kilobytes; large Protobuf or JSON schemas stay well below this).
 */
const REGISTRY_RESPONSE_MAX_BYTES = 4 * 1024 * 1024;

const QUOTED_MAX_LENGTH = 500;

const registryFailure: HttpFailure = (message, options) => new RegistryError(message, options);

/** Adds the static secrets of a registry's authentication to `secrets` (the basic header's base64 included). */
export function addRegistrySecrets(secrets: SecretSet, auth: RegistryAuth): SecretSet {
  if (auth.mode === 'basic') secrets.add(auth.password, auth.username);
  if (auth.mode === 'oauth2') secrets.add(auth.clientSecret).add(auth.password, auth.username);
  return secrets;
}

function schemaTypeOf(value: unknown): SchemaType {
  if (value === undefined || value === null || value === 'AVRO') return 'AVRO';
  if (value === 'JSON' || value === 'PROTOBUF') return value;
  throw new RegistryError(`schema registry returned an unknown schemaType ${quoted(JSON.stringify(value) ?? typeof value)}`, { retriable: false });
}

/** Text of the registry's, quoted in a message: cut short, since an answer may be megabytes long. */
function quoted(text: string): string {
  return text.length > QUOTED_MAX_LENGTH ? `${text.slice(0, QUOTED_MAX_LENGTH)}...` : text;
}

/**
 * A minimal Confluent Schema Registry client. Every credential it sends (the basic password and header, the
 * client secret, the password grant's password, the bearer token in use) is removed from the text of its errors
 * before they are built, also when the registry or a proxy quotes the request back.
 */
export class RegistryClient {
  private readonly http: HttpClient;
  private readonly tokens: OAuthTokenSource | undefined;
  private readonly secrets: SecretSet;

  constructor(private readonly options: ResolvedRegistryOptions) {
    this.secrets = addRegistrySecrets(new SecretSet(), options.auth);
    this.http = new HttpClient({
      target: 'schema registry',
      tlsVerify: options.sslVerify,
      keepAlive: true,
      deadlineMs: options.requestTimeoutMs,
      maxBodyBytes: REGISTRY_RESPONSE_MAX_BYTES,
      secrets: this.secrets,
      fail: registryFailure,
    });
    const auth = options.auth;
    this.tokens =
      auth.mode === 'oauth2'
        ? new OAuthTokenSource({
            grant: auth,
            tlsVerify: options.sslVerify,
            deadlineMs: options.requestTimeoutMs,
            secrets: this.secrets,
            fail: registryFailure,
          })
        : undefined;
  }

  /** Resolves `subject` at `version` (`latest` or a number) to its schema and id. */
  async getSubjectVersion(subject: string, version: 'latest' | number): Promise<SubjectVersion> {
    const body = await this.call<Record<string, unknown>>('GET', `/subjects/${encodeURIComponent(subject)}/versions/${version}`);
    if (typeof body.id !== 'number' || typeof body.schema !== 'string')
      throw new RegistryError(`schema registry answered subject "${subject}" version ${version} without an id and schema`, { retriable: false });
    return {
      subject,
      version: typeof body.version === 'number' ? body.version : Number(version),
      id: body.id,
      schema: body.schema,
      schemaType: schemaTypeOf(body.schemaType),
      references: Array.isArray(body.references) ? (body.references as SchemaReference[]) : [],
    };
  }

  /** Fetches a schema by its registry id. */
  async getSchemaById(id: number): Promise<RegistrySchema> {
    const body = await this.call<Record<string, unknown>>('GET', `/schemas/ids/${id}`);
    if (typeof body.schema !== 'string') throw new RegistryError(`schema registry answered schema id ${id} without a schema`, { retriable: false });
    return {
      schema: body.schema,
      schemaType: schemaTypeOf(body.schemaType),
      references: Array.isArray(body.references) ? (body.references as SchemaReference[]) : [],
    };
  }

  /**
   * Registers a schema under a subject (the same schema again gives the same id). A schema the registry refuses as
   * incompatible with the subject's earlier versions (409) is a {@link SchemaIncompatibleError}.
   */
  async register(subject: string, schema: { schema: string; schemaType: SchemaType; references?: SchemaReference[] }): Promise<number> {
    const request: Record<string, unknown> = { schema: schema.schema };
    // Older registries reject schemaType AVRO; it is the default anyway.
    if (schema.schemaType !== 'AVRO') request.schemaType = schema.schemaType;
    if (schema.references && schema.references.length > 0) request.references = schema.references;
    const body = await this.call<{ id?: unknown }>('POST', `/subjects/${encodeURIComponent(subject)}/versions`, request).catch((error: unknown) => {
      if (error instanceof RegistryError && error.status === 409) throw new SchemaIncompatibleError(subject, error);
      throw error;
    });
    if (typeof body.id !== 'number') throw new RegistryError(`schema registry registered "${subject}" without returning an id`, { retriable: false });
    return body.id;
  }

  /** Closes kept-alive connections. */
  close(): void {
    this.tokens?.close();
    this.http.close();
  }

  private async headers(): Promise<Record<string, string>> {
    const headers: Record<string, string> = { accept: CONTENT_TYPE, 'content-type': CONTENT_TYPE };
    const auth = this.options.auth;
    if (auth.mode === 'basic') {
      headers.authorization = `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`;
    }
    if (auth.mode === 'oauth2' && this.tokens) {
      const token = await this.tokens.token();
      headers.authorization = `Bearer ${token}`;
      if (auth.identityPoolId) headers['Confluent-Identity-Pool-Id'] = auth.identityPoolId;
      if (auth.logicalClusterId) headers['target-sr-cluster'] = auth.logicalClusterId;
    }
    return headers;
  }

  private async call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    let answer = await this.send(method, path, body);
    if (answer.status === 401 && this.tokens) {
      // The token may have been revoked or expired early: one fresh token, one more try.
      this.tokens.invalidate();
      answer = await this.send(method, path, body);
    }
    let parsed: unknown;
    try {
      parsed = answer.text.length > 0 ? JSON.parse(answer.text) : undefined;
    } catch {
      parsed = undefined;
    }
    if (answer.status >= 200 && answer.status < 300) {
      if (parsed === undefined) throw new RegistryError(`schema registry answered ${method} ${path} with a body that is not JSON`, { retriable: true });
      return parsed as T;
    }
    const registryBody = (parsed ?? {}) as { error_code?: unknown; message?: unknown };
    const registryErrorCode = typeof registryBody.error_code === 'number' ? registryBody.error_code : undefined;
    // A registry (or a proxy before it) may quote the request, Authorization header included: scrubbed, then cut
    // (in that order, so no secret is cut in half where scrubbing cannot recognise it).
    const detail = typeof registryBody.message === 'string' ? `: ${quoted(this.secrets.scrub(registryBody.message))}` : '';
    const where = describeUrl(`${this.options.url}${path}`);
    const errorOptions: { status: number; retriable: boolean; registryErrorCode?: number } = {
      status: answer.status,
      retriable: isRetriableStatus(answer.status),
    };
    if (registryErrorCode !== undefined) errorOptions.registryErrorCode = registryErrorCode;
    throw new RegistryError(`schema registry answered ${answer.status} to ${method} ${where}${detail}`, errorOptions);
  }

  private async send(method: 'GET' | 'POST', path: string, body: unknown) {
    const request = { method, url: `${this.options.url}${path}`, headers: await this.headers() };
    return this.http.send(body === undefined ? request : { ...request, body: JSON.stringify(body) });
  }
}
