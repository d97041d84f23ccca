/**
 * Loads QuickJS, the JavaScript engine that evaluates custom-field expression strings: a separate engine compiled
 * to WebAssembly (packages `quickjs-emscripten-core` and `@jitl/quickjs-wasmfile-release-sync`), with a heap of
 * its own that cannot hold a reference to any object of the application.
 *
 * The load is synchronous so that `compileCustomFields` stays synchronous. The package's Emscripten loader is an
 * async function, but every promise it waits on is one of its own (the WebAssembly instance is made synchronously
 * here): run in a `node:vm` context whose microtasks are drained before `runInContext` returns
 * (`microtaskMode: 'afterEvaluate'`), it has finished when that call returns. The loader also sees no `process`,
 * file system or console of the application: only the stand-ins given here.
 *
 * Nothing is read at import: the packages are resolved and their files read on the first call (at start-up, when
 * the first expression string is compiled), then kept for later instances.
 *
 * @module
 */

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import vm from 'node:vm';
import type { QuickJSWASMModule } from 'quickjs-emscripten-core';
import { ErrorCodes, KafkaLogError } from '../../errors.js';

const CORE_PACKAGE = 'quickjs-emscripten-core';
const VARIANT_PACKAGE = '@jitl/quickjs-wasmfile-release-sync';
/** The versions kafka-log is built and tested against (the loader below relies on their Emscripten output). */
const VERSION = '0.32.0';

type EmscriptenModule = ConstructorParameters<typeof QuickJSWASMModule>[0];
/** The few WebAssembly names used here (the project's TypeScript lib declares no WebAssembly types). */
type WasmModule = object;
interface WasmInstance {
  readonly exports: object;
}
interface WebAssemblyApi {
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (module: WasmModule, imports: object) => WasmInstance;
}
type QuickJSFFI = ConstructorParameters<typeof QuickJSWASMModule>[1];

/** What the packages provide, read once. */
interface EngineFiles {
  readonly WasmModule: typeof QuickJSWASMModule;
  readonly FFI: new (module: EmscriptenModule) => QuickJSFFI;
  readonly loader: vm.Script;
  readonly wasm: WasmModule;
}

function webAssembly(): WebAssemblyApi {
  return (globalThis as unknown as { WebAssembly: WebAssemblyApi }).WebAssembly;
}

let files: EngineFiles | undefined;

/**
 * A new QuickJS engine instance (its own WebAssembly memory). Throws a `KafkaLogError` with code
 * `KAFKA_LOG_ERR_MISSING_DEPENDENCY` when the packages are not installed or cannot be loaded.
 */
export function newQuickJs(): QuickJSWASMModule {
  files ??= readEngineFiles();
  const { WasmModule, FFI, loader, wasm } = files;
  const exports = {};
  const standIns: Record<string, unknown> = {
    module: { exports },
    exports,
    // Only reached when the loader fetches the .wasm itself, which it does not: it is instantiated below.
    require: () => ({
      readFileSync() {
        throw new Error('no file access');
      },
    }),
    __dirname: '/',
    process: { argv: [] },
    console: { log: ignore, warn: ignore, error: ignore },
    TextDecoder,
    WebAssembly: webAssembly(),
    instantiateWasm(imports: object, done: (instance: WasmInstance, module: WasmModule) => void) {
      const instance = new (webAssembly().Instance)(wasm, imports);
      done(instance, wasm);
      return instance.exports;
    },
  };
  const context = vm.createContext(standIns, {
    name: 'kafka-log QuickJS loader',
    codeGeneration: { strings: false, wasm: false },
    microtaskMode: 'afterEvaluate',
  });
  try {
    loader.runInContext(context);
    vm.runInContext(
      `module.exports({ instantiateWasm, print() {}, printErr() {} }).then((m) => { loaded = m; }, (e) => { failed = e; });`,
      context,
    );
  } catch (error) {
    throw unusable(error);
  }
  const module = standIns.loaded as (EmscriptenModule & { type?: string }) | undefined;
  if (module === undefined) throw unusable(standIns.failed ?? new Error('the WebAssembly module did not load synchronously'));
  // What newQuickJSWASMModuleFromVariant does once the module has loaded.
  module.type = 'sync';
  return new WasmModule(module, new FFI(module));
}

function ignore(): void {}

/** Resolves the packages and reads the loader and the WebAssembly binary. */
function readEngineFiles(): EngineFiles {
  const load = createRequire(__filename);
  let core: { QuickJSWASMModule: typeof QuickJSWASMModule };
  let ffi: { QuickJSFFI: new (module: EmscriptenModule) => QuickJSFFI };
  let loaderPath: string;
  let wasmPath: string;
  try {
    core = load(CORE_PACKAGE) as typeof core;
    ffi = load(`${VARIANT_PACKAGE}/ffi`) as typeof ffi;
    loaderPath = load.resolve(`${VARIANT_PACKAGE}/emscripten-module`);
    wasmPath = load.resolve(`${VARIANT_PACKAGE}/wasm`);
  } catch (error) {
    const code = (error as { code?: unknown } | null)?.code;
    if (code === 'MODULE_NOT_FOUND' || code === 'ERR_MODULE_NOT_FOUND' || code === 'ERR_PACKAGE_PATH_NOT_EXPORTED') {
      throw new KafkaLogError(
        ErrorCodes.MISSING_DEPENDENCY,
        `custom field expression strings need the packages "${CORE_PACKAGE}" and "${VARIANT_PACKAGE}" (version ${VERSION}): ` +
          `npm install ${CORE_PACKAGE}@${VERSION} ${VARIANT_PACKAGE}@${VERSION}`,
        { cause: error },
      );
    }
    throw unusable(error);
  }
  try {
    return {
      WasmModule: core.QuickJSWASMModule,
      FFI: ffi.QuickJSFFI,
      loader: new vm.Script(readFileSync(loaderPath, 'utf8'), { filename: loaderPath }),
      wasm: new (webAssembly().Module)(readFileSync(wasmPath)),
    };
  } catch (error) {
    throw unusable(error);
  }
}

function unusable(cause: unknown): KafkaLogError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new KafkaLogError(
    ErrorCodes.MISSING_DEPENDENCY,
    `the QuickJS engine for custom field expression strings could not be loaded (${reason}); ` +
      `kafka-log needs "${CORE_PACKAGE}" and "${VARIANT_PACKAGE}" at version ${VERSION}`,
    { cause },
  );
}
