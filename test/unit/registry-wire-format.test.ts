// The Confluent wire format: magic byte, big-endian schema id, Protobuf message indexes as Confluent writes them.
import { describe, expect, it } from 'vitest';
import { decodeWireMessage, encodeWireMessage } from '../../src/registry/index.js';
import { encodeMessageIndexes } from '../../src/registry/wire-format.js';

describe('Confluent wire format', () => {
  it('is magic byte 0, the schema id as 4 big-endian bytes, then the payload', () => {
    const bytes = encodeWireMessage(0x01020304, Buffer.from('abc'));
    expect([...bytes]).toEqual([0, 1, 2, 3, 4, 0x61, 0x62, 0x63]);
    expect(decodeWireMessage(bytes)).toEqual({ schemaId: 0x01020304, payload: Buffer.from('abc') });
  });

  it('writes message indexes [0] as a single zero byte, others as zigzag varints with the count first', () => {
    expect([...encodeMessageIndexes([0])]).toEqual([0]);
    expect([...encodeMessageIndexes([1])]).toEqual([2, 2]);
    expect([...encodeMessageIndexes([1, 2])]).toEqual([4, 2, 4]);
    expect([...encodeMessageIndexes([70])]).toEqual([2, 140, 1]);
    for (const indexes of [[0], [3], [1, 0, 5], [200]]) {
      const bytes = encodeWireMessage(7, Buffer.from([8, 1]), indexes);
      expect(decodeWireMessage(bytes, true)).toEqual({ schemaId: 7, messageIndexes: indexes, payload: Buffer.from([8, 1]) });
    }
  });

  it('refuses a buffer that is not Confluent-framed', () => {
    expect(() => decodeWireMessage(Buffer.from([1, 0, 0, 0, 1]))).toThrow(RangeError);
    expect(() => decodeWireMessage(Buffer.from([0, 0]))).toThrow(RangeError);
  });
});
