/**
 * `RegistryClient`: the few Confluent Schema Registry REST calls kafka-log needs (resolve a subject version,
 * fetch a schema by id, register a schema), with basic or OAuth 2 authentication. It never retries: the
 * publisher owns retries, and a {@link RegistryError}'s `retriable` flag tells it whether to.
 *
 * @module
 */

import { RegistryError } from '../errors.js';
import { type HttpAgents, createHttpAgents, describeUrl, isRetriableStatus, sendHttp } from './http.js';
import { OAuth2TokenSource } from './oauth2.js';
import type { ResolvedRegistryOptions } from './options.js';

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
export interface RegistrySchema {
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

function schemaTypeOf(value: unknown): SchemaType {
  if (value === undefined || value === null || value === 'AVRO') return 'AVRO';
  if (value === 'JSON' || value === 'PROTOBUF') return value;
  throw new RegistryError(`schema registry returned an unknown schemaType ${JSON.stringify(value)}`, { retriable: false });
}

/** A minimal Confluent Schema Registry client. */
export class RegistryClient {
  private readonly agents: HttpAgents;
  private readonly tokens: OAuth2TokenSource | undefined;

  constructor(private readonly options: ResolvedRegistryOptions) {
    this.agents = createHttpAgents(options.sslVerify);
    this.tokens = options.auth.mode === 'oauth2' ? new OAuth2TokenSource(options.auth, this.agents, options.requestTimeoutMs) : undefined;
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

  /** Registers a schema under a subject (the same schema again gives the same id). */
  async register(subject: string, schema: { schema: string; schemaType: SchemaType; references?: SchemaReference[] }): Promise<number> {
    const request: Record<string, unknown> = { schema: schema.schema };
    // Older registries reject schemaType AVRO; it is the default anyway.
    if (schema.schemaType !== 'AVRO') request.schemaType = schema.schemaType;
    if (schema.references && schema.references.length > 0) request.references = schema.references;
    const body = await this.call<{ id?: unknown }>('POST', `/subjects/${encodeURIComponent(subject)}/versions`, request);
    if (typeof body.id !== 'number') throw new RegistryError(`schema registry registered "${subject}" without returning an id`, { retriable: false });
    return body.id;
  }

  /** Closes kept-alive connections. */
  close(): void {
    this.agents.http.destroy();
    this.agents.https.destroy();
  }

  /** Credentials sent in the last request (the basic header, the bearer token), for {@link RegistryClient.scrub}. */
  private sentSecrets: string[] = [];

  /**
   * A registry (or a proxy in front of it) may echo the request back in its error message, Authorization header
   * included: every credential this client sends is cut out before the message is quoted.
   */
  private scrub(text: string): string {
    const auth = this.options.auth;
    const secrets = [...this.sentSecrets];
    if (auth.mode === 'basic') secrets.push(auth.password);
    if (auth.mode === 'oauth2') secrets.push(auth.clientSecret, auth.password ?? '');
    let out = text;
    for (const secret of secrets) if (secret.length >= 3) out = out.split(secret).join('[REDACTED]');
    return out;
  }

  private async headers(): Promise<Record<string, string>> {
    const headers: Record<string, string> = { accept: CONTENT_TYPE, 'content-type': CONTENT_TYPE };
    const auth = this.options.auth;
    if (auth.mode === 'basic') {
      const credential = Buffer.from(`${auth.username}:${auth.password}`).toString('base64');
      this.sentSecrets = [credential];
      headers.authorization = `Basic ${credential}`;
    }
    if (auth.mode === 'oauth2' && this.tokens) {
      const token = await this.tokens.current();
      this.sentSecrets = [token];
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
    const detail = typeof registryBody.message === 'string' ? `: ${this.scrub(registryBody.message)}` : '';
    const where = describeUrl(`${this.options.url}${path}`);
    const errorOptions: { status: number; retriable: boolean; registryErrorCode?: number } = {
      status: answer.status,
      retriable: isRetriableStatus(answer.status),
    };
    if (registryErrorCode !== undefined) errorOptions.registryErrorCode = registryErrorCode;
    throw new RegistryError(`schema registry answered ${answer.status} to ${method} ${where}${detail}`, errorOptions);
  }

  private async send(method: 'GET' | 'POST', path: string, body: unknown) {
    const call = {
      method,
      url: `${this.options.url}${path}`,
      headers: await this.headers(),
      timeoutMs: this.options.requestTimeoutMs,
      target: 'schema registry',
    };
    return sendHttp(body === undefined ? call : { ...call, body: JSON.stringify(body) }, this.agents);
  }
}
