/**
 * What every schema codec (Avro, JSON Schema, Protobuf) offers the encoder: turn one plain value into the
 * payload that follows the Confluent header.
 *
 * @module
 */

import type { SchemaType } from './client.js';

/** Callbacks a codec reports to while it encodes. */
export interface CodecContext {
  /** A key the schema has no place for was left out (dotted path, e.g. `request.x_debug`). */
  onDroppedField(path: string): void;
}

/** The bytes a codec produced. */
interface CodecOutput {
  /** The serialized value. */
  payload: Uint8Array;
  /** Protobuf only: which message of the schema file was written. */
  messageIndexes?: number[];
}

/** Encodes plain values with one registered schema. Throws `SchemaMismatchError` naming the path that does not fit. */
export interface SchemaCodec {
  /** The schema's type. */
  readonly schemaType: SchemaType;
  /** Encodes one value. */
  encode(value: unknown, context: CodecContext): CodecOutput;
}
