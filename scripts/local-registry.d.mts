// Types of scripts/local-registry.mjs: a TEST schema registry (Confluent REST endpoints, in memory, node:http).
// Never exported by the package; not for production. A new version must pass the subject's compatibility level
// (default BACKWARD; see scripts/registry-compatibility.mjs), or it is refused with HTTP 409 (error_code 409).

export interface TestRegistryOptions {
  /** Port to listen on; 0 or absent: a free port (kept across stop()/start()). */
  port?: number;
  /** Interface to listen on. Default 127.0.0.1. */
  host?: string;
  /** Require HTTP basic authentication with these credentials. */
  basicAuth?: { username: string; password: string };
  /** Serve `POST /oauth/token` (client-credentials grant) and accept the bearer tokens it issued. */
  oauth2?: { clientId: string; clientSecret: string };
  /** With oauth2: also require Confluent Cloud's `target-sr-cluster` and `Confluent-Identity-Pool-Id` headers. */
  confluentCloudHeaders?: boolean;
  /** Persist schemas, subjects and config to this JSON file (a new process on the same file keeps ids). */
  dataFile?: string;
}

export interface TestRegistry {
  /** `http://host:port`. */
  readonly url: string;
  readonly port: number;
  /** Whether it is listening. */
  readonly running: boolean;
  /** Every request received (method and path), oldest first. */
  readonly requests: { method: string; path: string }[];
  /** Listen again on the same port (same schemas and ids). */
  start(): Promise<void>;
  /** Stop listening and drop open connections (schemas stay in memory). */
  stop(): Promise<void>;
  /** Same as stop(). */
  close(): Promise<void>;
  /** Forget every schema, subject, token and request. */
  reset(): void;
}

export function startTestRegistry(options?: TestRegistryOptions): Promise<TestRegistry>;
