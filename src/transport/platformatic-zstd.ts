/**
 * zstd for @platformatic/kafka on Node versions without `zlib.zstdCompressSync` (before 22.15, so all of Node
 * 20): the client marks zstd unavailable there, and this fills its codec slot with the WebAssembly build of
 * zstd (`@bokuweb/zstd-wasm`, the package the kafkajs transport uses on those versions too). gzip, snappy and lz4
 * the client has on every Node version.
 *
 * @module
 */
import { loadOptional } from '../optional-dependency.js';
import { loadCodec } from './compression-codecs.js';

/** One entry of @platformatic/kafka's codec table (`compressionsAlgorithms`). */
export interface PlatformaticCodecSlot {
  /** Compresses a whole record batch. */
  compressSync(data: Buffer): Buffer;
  /** Decompresses a whole record batch. */
  decompressSync(data: Buffer): Buffer;
  /** Whether the codec works on this Node version. */
  available: boolean;
}

interface ZstdWasm {
  compress(input: Uint8Array, level?: number): Uint8Array;
  decompress(input: Uint8Array): Uint8Array;
}

const PACKAGE = '@bokuweb/zstd-wasm';
let filling: Promise<void> | undefined;

/**
 * Makes `slot` (the client's zstd entry) work: a no-op where Node has zstd, else WebAssembly zstd. Rejects with a
 * `missing_dependency` TransportError naming the package when it is not installed.
 */
export function ensurePlatformaticZstd(slot: PlatformaticCodecSlot): Promise<void> {
  if (slot.available) return Promise.resolve();
  filling ??= (async () => {
    // The shared codec loader initialises the WebAssembly module once per process (a second init would swap its
    // memory under the kafkajs transport's codec) and reports a missing package; its functions are then used
    // synchronously, as the client calls codecs.
    await loadCodec('zstd');
    const wasm = await loadOptional<ZstdWasm>(PACKAGE, 'zstd compression', { has: 'compress' });
    slot.compressSync = (data) => Buffer.from(wasm.compress(data, 3));
    slot.decompressSync = (data) => Buffer.from(wasm.decompress(data));
    slot.available = true;
  })();
  filling.catch(() => {
    filling = undefined;
  });
  return filling;
}
