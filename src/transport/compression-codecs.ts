/**
 * Compression codecs beyond gzip, transport-neutral (Buffer in, Buffer out), loaded only when chosen.
 * Everything here installs without native builds: snappy and lz4 are pure JavaScript (`snappyjs`, `lz4js`);
 * zstd is Node's own `node:zlib` where it has it (Node 22.15+), else WebAssembly (`@bokuweb/zstd-wasm`).
 *
 * @module
 */
import * as zlib from 'node:zlib';
import { loadOptional } from '../optional-dependency.js';
import { TransportError } from './transport.js';

/** A codec: compress and decompress whole buffers. */
interface Codec {
  /** Compresses. */
  compress(input: Buffer): Promise<Buffer>;
  /** Decompresses. */
  decompress(input: Buffer): Promise<Buffer>;
}

/** Codecs that need loading. */
export type LoadableCodec = 'snappy' | 'lz4' | 'zstd';

type Bytes = (input: Uint8Array) => Uint8Array;

/** Loads a codec's package, or rejects with a `missing_dependency` TransportError saying what to install. */
function optional<T>(name: string, codec: LoadableCodec): Promise<T> {
  const message = (install: string) => `compression "${codec}" needs the package "${name}": ${install}`;
  return loadOptional<T>(name, (_, install) => new TransportError('missing_dependency', message(install), false));
}

// Java clients write snappy in xerial's framing: a 16-byte header, then [4-byte length][raw snappy] chunks.
const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);

async function snappyCodec(): Promise<Codec> {
  const snappy = await optional<{ compress: Bytes; uncompress: Bytes }>('snappyjs', 'snappy');
  const raw = (input: Uint8Array) => Buffer.from(snappy.uncompress(input));
  return {
    // Raw snappy, as kafkajs' own codec packages write: the broker and Java consumers read it.
    compress: async (input) => Buffer.from(snappy.compress(input)),
    decompress: async (input) => {
      if (input.length < 16 || !input.subarray(0, 8).equals(XERIAL_MAGIC)) return raw(input);
      const chunks: Buffer[] = [];
      for (let at = 16; at + 4 <= input.length; ) {
        const size = input.readUInt32BE(at);
        chunks.push(raw(input.subarray(at + 4, at + 4 + size)));
        at += 4 + size;
      }
      return Buffer.concat(chunks);
    },
  };
}

interface Lz4js {
  compressBound(n: number): number;
  compressBlock(src: Uint8Array, dst: Uint8Array, sIndex: number, sLength: number, hashTable: Uint32Array): number;
  decompress(input: Uint8Array): Uint8Array;
}

const LZ4_MAGIC = 0x184d2204;
const LZ4_BLOCK = 64 * 1024;
// FLG: version 01 with independent blocks (Kafka refuses dependent blocks); BD: 64 KB blocks, as Java writes.
const LZ4_FLG = 0x60;
const LZ4_BD = 0x40;

async function lz4Codec(): Promise<Codec> {
  const lz4 = await optional<Lz4js>('lz4js', 'lz4');
  const xxh = await optional<{ hash(seed: number, b: Uint8Array, at: number, n: number): number }>('lz4js/xxh32.js', 'lz4');
  const header = Buffer.alloc(7);
  header.writeUInt32LE(LZ4_MAGIC, 0);
  header[4] = LZ4_FLG;
  header[5] = LZ4_BD;
  header[6] = (xxh.hash(0, header, 4, 2) >>> 8) & 0xff;
  const hashTable = new Uint32Array(1 << 16);
  const scratch = new Uint8Array(lz4.compressBound(LZ4_BLOCK));
  return {
    // lz4js' own frame writer marks blocks dependent; this writes the frame around its block compressor.
    compress: async (input) => {
      const parts: Buffer[] = [header];
      for (let at = 0; at < input.length; at += LZ4_BLOCK) {
        const size = Math.min(LZ4_BLOCK, input.length - at);
        hashTable.fill(0); // independent blocks: no match may reach into an earlier block
        const packed = lz4.compressBlock(input, scratch, at, size, hashTable);
        const length = Buffer.alloc(4);
        if (packed > 0 && packed < size) {
          length.writeUInt32LE(packed, 0);
          parts.push(length, Buffer.from(scratch.subarray(0, packed)));
        } else {
          length.writeUInt32LE((0x80000000 | size) >>> 0, 0);
          parts.push(length, input.subarray(at, at + size));
        }
      }
      parts.push(Buffer.alloc(4));
      return Buffer.concat(parts);
    },
    decompress: async (input) => Buffer.from(lz4.decompress(input)),
  };
}

interface ZstdWasm {
  init(): Promise<void>;
  compress(input: Uint8Array, level?: number): Uint8Array;
  decompress(input: Uint8Array): Uint8Array;
}

interface ZlibWithZstd {
  zstdCompressSync(input: Buffer): Buffer;
  zstdDecompressSync(input: Buffer): Buffer;
}

async function zstdCodec(): Promise<Codec> {
  const native = zlib as unknown as Partial<ZlibWithZstd>;
  if (typeof native.zstdCompressSync === 'function' && typeof native.zstdDecompressSync === 'function') {
    const { zstdCompressSync, zstdDecompressSync } = native as ZlibWithZstd;
    return {
      compress: async (input) => zstdCompressSync(input),
      decompress: async (input) => zstdDecompressSync(input),
    };
  }
  const wasm = await optional<ZstdWasm>('@bokuweb/zstd-wasm', 'zstd');
  await wasm.init();
  return {
    compress: async (input) => Buffer.from(wasm.compress(input, 3)),
    decompress: async (input) => Buffer.from(wasm.decompress(input)),
  };
}

const loading = new Map<LoadableCodec, Promise<Codec>>();

/** Loads a codec once; rejects with a `missing_dependency` {@link TransportError} when its package is absent. */
export function loadCodec(name: LoadableCodec): Promise<Codec> {
  let codec = loading.get(name);
  if (!codec) {
    codec = name === 'snappy' ? snappyCodec() : name === 'lz4' ? lz4Codec() : zstdCodec();
    codec.catch(() => loading.delete(name));
    loading.set(name, codec);
  }
  return codec;
}
