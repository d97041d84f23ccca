/**
 * The Kafka protocol errors both transports classify apart from "broker, retry later", by the name Kafka gives
 * them (Apache Kafka's `org.apache.kafka.common.protocol.Errors`; kafkajs calls it `type`, @platformatic/kafka
 * `apiId`), and the codes by which Node's TLS failures are told from other socket errors.
 *
 * @module
 */

/**
 * What a Kafka protocol error means for a publisher: retrying cannot mend `authentication` nor `message_too_large`;
 * `producer_state` (an idempotent producer's id, epoch or sequence numbers the broker no longer accepts) is mended
 * only by a new producer id, which the transports obtain before the request is retried.
 */
export type KafkaErrorKind = 'authentication' | 'message_too_large' | 'producer_state';

/** Kafka's name, Kafka's numeric code, and what it means here. */
const KAFKA_ERRORS: ReadonlyArray<readonly [name: string, code: number, kind: KafkaErrorKind]> = [
  // Credentials or rights: the broker refuses until the configuration changes.
  ['UNSUPPORTED_SASL_MECHANISM', 33, 'authentication'],
  ['ILLEGAL_SASL_STATE', 34, 'authentication'],
  ['TOPIC_AUTHORIZATION_FAILED', 29, 'authentication'],
  ['CLUSTER_AUTHORIZATION_FAILED', 31, 'authentication'],
  ['TRANSACTIONAL_ID_AUTHORIZATION_FAILED', 53, 'authentication'],
  ['SASL_AUTHENTICATION_FAILED', 58, 'authentication'],
  ['DELEGATION_TOKEN_AUTHORIZATION_FAILED', 65, 'authentication'],
  // The records themselves: too large for the topic's or broker's limit (an oversized batch can read as invalid).
  ['MESSAGE_TOO_LARGE', 10, 'message_too_large'],
  ['RECORD_LIST_TOO_LARGE', 18, 'message_too_large'],
  ['INVALID_RECORD', 87, 'message_too_large'],
  // The broker lost or no longer matches the producer's state (restarted, producer id expired, a batch whose fate
  // the client never learnt took the sequence numbers the next batch carries). Kafka's Java producer resets its
  // producer id and epoch on these (its TransactionManager), rather than failing the records.
  ['OUT_OF_ORDER_SEQUENCE_NUMBER', 45, 'producer_state'],
  ['INVALID_PRODUCER_EPOCH', 47, 'producer_state'],
  ['UNKNOWN_PRODUCER_ID', 59, 'producer_state'],
];
const KIND_OF = new Map<string | number, KafkaErrorKind>(KAFKA_ERRORS.flatMap(([name, code, kind]) => [[name, kind] as const, [code, kind] as const]));

/**
 * The kind of the Kafka protocol error named `nameOrCode` (its name, or its numeric code as a partition's response
 * carries it), or `undefined` for every other (retriable broker) error.
 */
export function kafkaErrorKind(nameOrCode: string | number | undefined): KafkaErrorKind | undefined {
  return nameOrCode === undefined ? undefined : KIND_OF.get(nameOrCode);
}

/** Node's TLS failures carry OpenSSL-style codes (`CERT_HAS_EXPIRED`, `ERR_SSL_...`, `SELF_SIGNED_CERT_IN_CHAIN`). */
export function isTlsErrorCode(code: unknown): boolean {
  return typeof code === 'string' && /CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)/.test(code);
}
