// The sandbox setup script is the source text of two functions (`sandbox-setup.ts`, `json-value-check.ts`), so what
// QuickJS runs is whatever the compiler made of them. This builds `sandbox-source.ts` with the package's own tsup
// settings, takes the setup text the built CommonJS and ES module files give under plain Node, and runs it in
// QuickJS beside the text from the test's own transform: all three must behave the same.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'tsup';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newQuickJs } from '../../src/entry/custom-fields/quickjs-engine.js';
import { expressionFunctionText, expressionScript, setupSource } from '../../src/entry/custom-fields/sandbox-source.js';
import tsupConfig from '../../tsup.config.js';

const MAX_VALUE_BYTES = 64;
const EXPRESSIONS = [
  "({ region: 'eu', list: [1, true, null] })",
  '({ a: [1, { b: () => 1 }] })',
  '(() => { const o = {}; o.self = o; return o; })()',
  "'é'.repeat(31)",
  "'é'.repeat(32)",
  "Function('return 1')()",
  "[Object.isFrozen(globalThis), Object.isFrozen(Array.prototype), typeof WeakRef, eval.name]",
];
const EXPECTED = [
  { value: { region: 'eu', list: [1, true, null] } },
  { error: 'a function is not a JSON value (at value.a[1].b)' },
  { error: 'the value is cyclic' },
  { value: 'é'.repeat(31) },
  { error: `the value is larger than maxValueBytes (${MAX_VALUE_BYTES} bytes of JSON)` },
  { error: 'threw EvalError: Code generation from strings disallowed for custom field expressions' },
  { value: [true, true, 'undefined', 'Function'] },
];

/** Runs the setup text in a fresh QuickJS context, registers the expressions and evaluates them all. */
function runInQuickJs(setupText: string): unknown {
  const runtime = newQuickJs().newRuntime();
  runtime.setMaxStackSize(64 * 1024);
  runtime.setMemoryLimit(8 * 1024 * 1024);
  const context = runtime.newContext();
  try {
    const runner = context.unwrapResult(context.evalCode(setupText, 'setup'));
    const call = (name: string, ...args: Array<string | number>): string => {
      const fn = context.getProp(runner, name);
      const handles = args.map((arg) => (typeof arg === 'number' ? context.newNumber(arg) : context.newString(arg)));
      const result = context.unwrapResult(context.callFunction(fn, context.undefined, ...handles));
      const text = context.typeof(result) === 'string' ? context.getString(result) : '';
      for (const handle of [fn, result, ...handles]) handle.dispose();
      return text;
    };
    EXPRESSIONS.forEach((expression, index) => {
      expect(call('register', index, expressionScript(expression), expressionFunctionText(expression)), expression).toBe('');
    });
    const outcomes = JSON.parse(call('runAll', '{}', '{}')) as unknown;
    runner.dispose();
    return outcomes;
  } finally {
    context.dispose();
    runtime.dispose();
  }
}

describe('the sandbox setup script as built for the package', () => {
  let directory = '';
  beforeAll(async () => {
    directory = mkdtempSync(join(tmpdir(), 'kafka-log-setup-build-'));
    await build({
      ...tsupConfig,
      entry: { 'sandbox-source': 'src/entry/custom-fields/sandbox-source.ts' },
      outDir: directory,
      dts: false,
      clean: false,
      silent: true,
      config: false,
    });
  }, 60_000);
  afterAll(() => {
    if (directory !== '') rmSync(directory, { recursive: true, force: true });
  });

  /** The setup text a built file gives under plain Node (no test transform in between). */
  function builtSetupText(file: string): string {
    const load = file.endsWith('.mjs') ? `import(${JSON.stringify(pathToFileURL(file).href)})` : `Promise.resolve(require(${JSON.stringify(file)}))`;
    const script = `${load}.then((m) => process.stdout.write(m.setupSource(${MAX_VALUE_BYTES})))`;
    return execFileSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 10_000 });
  }

  it('runs in QuickJS from the test transform, the CommonJS build and the ES module build alike', () => {
    const texts = {
      transform: setupSource(MAX_VALUE_BYTES),
      commonjs: builtSetupText(join(directory, 'sandbox-source.js')),
      esm: builtSetupText(join(directory, 'sandbox-source.mjs')),
    };
    for (const [origin, text] of Object.entries(texts)) {
      expect(text, origin).toMatch(/^'use strict';/);
      expect(text, origin).not.toMatch(/__name|__require|__vi_|require\(|import\(/);
      expect(runInQuickJs(text), origin).toEqual(EXPECTED);
    }
  });
});
