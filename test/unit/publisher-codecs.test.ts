import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { loadCodec } from '../../src/transport/compression-codecs.js';

// Half repetitive text, half noise: exercises compressed and stored blocks, across several 64 KB lz4 blocks.
const input = Buffer.concat([Buffer.from('{"request":{"uri":"/api"}},'.repeat(6000)), randomBytes(100_000)]);

describe('codecs', () => {
  it.each(['snappy', 'lz4', 'zstd'] as const)('%s round-trips large inputs', async (name) => {
    const codec = await loadCodec(name);
    const packed = await codec.compress(input);
    expect(packed.length).toBeLessThan(input.length);
    expect((await codec.decompress(packed)).equals(input)).toBe(true);
    expect((await codec.decompress(await codec.compress(Buffer.alloc(0)))).length).toBe(0);
  });

  it('lz4 writes independent blocks with a valid header (what Kafka requires)', async () => {
    const packed = await (await loadCodec('lz4')).compress(input);
    expect(packed.readUInt32LE(0)).toBe(0x184d2204);
    expect(packed[4]! & 0x20).toBe(0x20);
  });

  it('snappy reads the xerial framing Java producers write', async () => {
    const codec = await loadCodec('snappy');
    const a = await codec.compress(Buffer.from('hello '));
    const b = await codec.compress(Buffer.from('world'));
    const header = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00, 0, 0, 0, 1, 0, 0, 0, 1]);
    const size = (n: number) => {
      const s = Buffer.alloc(4);
      s.writeUInt32BE(n);
      return s;
    };
    const framed = Buffer.concat([header, size(a.length), a, size(b.length), b]);
    expect((await codec.decompress(framed)).toString()).toBe('hello world');
  });
});
