/**
 * When an idempotent producer needs a new producer id. Kafka deduplicates an idempotent producer's retry by its
 * producer id and the sequence numbers of the batch; both clients number each partition's batches themselves and
 * give a batch's numbers back when its request fails (kafkajs at once, @platformatic/kafka by counting only what
 * was acknowledged). A failed request may have been written all the same (the broker went away before it
 * answered, the client stopped waiting): if the next batch to that partition is another one, it carries numbers
 * the broker has already seen, and the broker either refuses it (`OUT_OF_ORDER_SEQUENCE_NUMBER`) or, when the
 * sizes match, takes it for a retry of the batch it has and acknowledges it without writing it. A broker that lost
 * the producer's state (restarted, producer id expired) refuses the numbers too. Kafka's Java producer resets its
 * producer id and epoch in both cases (its `TransactionManager`); so do the transports, with the helpers here.
 *
 * A new producer id costs deduplication across it: a batch written under the old id and sent again under the new
 * one is written twice. Delivery is at least once for exactly those batches (as with Kafka's own producer).
 *
 * @module
 */
import { kafkaErrorKind } from './kafka-errors.js';
import { TransportError } from './transport.js';

/** Whether a Kafka error (its name or numeric code) says the broker no longer accepts the producer's id, epoch or sequence numbers. */
export function lostProducerState(nameOrCode: string | number | undefined): boolean {
  return kafkaErrorKind(nameOrCode) === 'producer_state';
}

/** The retriable failure of a request refused for its producer state, once a new producer id was obtained. */
export function producerRenewedError(cause: string): TransportError {
  const message = `the broker no longer accepts this producer's sequence numbers (${cause}): a new producer id was obtained, the records go again`;
  return new TransportError('broker', message, true);
}

/**
 * The partitions whose last batch failed, each with that batch's records, under the current producer id. The same
 * records sent again to such a partition carry the same sequence numbers (a duplicate the broker recognises); other
 * records would reuse numbers the failed batch may have taken: those need a new producer id first.
 */
export class UncertainBatches<R> {
  readonly #batches = new Map<string, readonly R[]>();

  /** A batch of `records` to `partition` failed: it may or may not have been written. */
  failed(partition: string, records: readonly R[]): void {
    this.#batches.set(partition, records);
  }

  /** A batch to `partition` was acknowledged: its sequence numbers are settled. */
  acknowledged(partition: string): void {
    if (this.#batches.size > 0) this.#batches.delete(partition);
  }

  /** Whether sending `records` to `partition` under the current producer id could reuse a failed batch's sequence numbers. */
  conflicts(partition: string, records: readonly R[]): boolean {
    const failed = this.#batches.get(partition);
    if (failed === undefined) return false;
    return failed.length !== records.length || failed.some((record, i) => record !== records[i]);
  }

  /** A new producer id: every partition's numbering starts again. */
  clear(): void {
    this.#batches.clear();
  }

  /** Whether any partition's last batch failed. */
  get size(): number {
    return this.#batches.size;
  }
}
