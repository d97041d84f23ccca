// Types of scripts/local-kafka.mjs (local Apache Kafka broker for tests, benchmarks and the demo).

export interface KafkaUser {
  username: string;
  password: string;
}

/** Contents of `.local/kafka/broker.json`. */
export interface KafkaInfo {
  /** Apache Kafka version, e.g. "4.4.0". */
  version: string;
  /** Broker JVM process id. */
  pid: number;
  /** Absolute path of the data folder (KRaft log dirs + logs). */
  dataDir: string;
  /** Absolute path of the broker's Log4j 2 log file. */
  logFile: string;
  /** Bootstrap list of the PLAINTEXT listener ("127.0.0.1:port"). */
  brokers: string[];
  /** "host:port" of each listener. */
  listeners: { plaintext: string; sasl: string; ssl: string };
  /** SASL users (on the `sasl` listener). OAUTHBEARER takes any unsigned JWT (alg "none") with `sub` and `exp`. */
  users: { plain: KafkaUser; scram256: KafkaUser; scram512: KafkaUser };
  /** Absolute paths of PEM files. `untrustedCa` is an unrelated CA for negative tests. */
  tls: { ca: string; cert: string; key: string; clientCert: string; clientKey: string; untrustedCa: string };
  /** ISO timestamp of the broker start. */
  startedAt: string;
  /** KRaft controller port (internal). */
  controllerPort?: number;
  /** KRaft cluster id. */
  clusterId?: string;
  /** Hash of scripts/kafka/pom.xml the broker was started from. */
  pomHash?: string;
}

/** `started` is true when this call started the broker (false: an already running one was reused). */
export type EnsureResult = KafkaInfo & { started: boolean };

export interface LocalKafkaOptions {
  /** Progress output; defaults to stderr, `false` silences. */
  log?: ((message: string) => void) | false;
  /** State folder; defaults to `.local/kafka` (or `$KAFKA_LOG_KAFKA_DIR`). */
  stateDir?: string;
  /** Bounded wait for the broker to answer metadata requests (default 60 000 ms). */
  readyTimeoutMs?: number;
}

export const KAFKA_VERSION: string;
export const REPO_ROOT: string;
export const DEFAULT_STATE_DIR: string;

/** Reuse the running broker if it answers `describeCluster` within a few seconds, else start a fresh one. */
export function ensureKafka(options?: LocalKafkaOptions): Promise<EnsureResult>;
/** Start a fresh broker (killing and wiping any previous one of the same state dir). */
export function startKafka(options?: LocalKafkaOptions): Promise<KafkaInfo>;
/** SIGTERM, bounded wait (20 s), then SIGKILL. Resolves true when a running broker was stopped. */
export function stopKafka(options?: Pick<LocalKafkaOptions, 'log' | 'stateDir'>): Promise<boolean>;
/** broker.json, or undefined. Does not check that the broker is alive. */
export function readKafkaInfo(options?: Pick<LocalKafkaOptions, 'stateDir'>): KafkaInfo | undefined;
/** Whether broker.json's broker is alive and answers a metadata request. */
export function isKafkaRunning(options?: Pick<LocalKafkaOptions, 'stateDir'> & { timeoutMs?: number }): Promise<boolean>;
/** Classpath of the broker jars (Maven on first use, then cached per pom hash). */
export function kafkaClasspath(options?: LocalKafkaOptions): Promise<string>;

export interface ClusterNode {
  /** node.id (1-based). */
  id: number;
  /** "127.0.0.1:port" of this node's PLAINTEXT listener. */
  broker: string;
  logFile: string;
  pid(): number | undefined;
  running(): boolean;
  /** Send a signal (default SIGTERM; SIGKILL supported) and wait for the process to exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Start again with the same data and ports; resolves when the node answers and the cluster has all brokers. */
  restart(options?: { timeoutMs?: number }): Promise<void>;
}

export interface LocalCluster {
  /** Bootstrap list (every node's PLAINTEXT listener). */
  brokers: string[];
  nodes: ClusterNode[];
  dir: string;
  clusterId: string;
  /** Stop every node (SIGTERM, bounded wait, SIGKILL). */
  stop(): Promise<void>;
}

export interface ClusterOptions {
  /** Number of nodes, each `broker,controller` (default 3). */
  nodes?: number;
  /** Folder for the nodes' data and logs (default `.local/kafka-cluster`); wiped at start. */
  dir?: string;
  log?: ((message: string) => void) | false;
  readyTimeoutMs?: number;
  /** Extra/overriding server.properties entries for every node. */
  brokerProperties?: Record<string, string | number | boolean>;
}

/** KRaft cluster on 127.0.0.1 (static quorum of all nodes, PLAINTEXT only, default RF min(3, nodes)). */
export function startCluster(options?: ClusterOptions): Promise<LocalCluster>;
