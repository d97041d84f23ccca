/**
 * The sandbox that evaluates custom-field expression strings.
 *
 * Expressions run in QuickJS, a separate JavaScript engine compiled to WebAssembly (`quickjs-engine.ts`): their
 * objects live in QuickJS's own heap, and nothing of the application (no `require`, `process`, timers, host
 * objects, host promises) is reachable from there. The entry and the context go in as JSON text; results come out
 * as JSON text, checked against `maxValueBytes` inside QuickJS first. So whatever an expression does, the host only
 * ever receives a bounded string: a rejected promise, a getter on a thrown object or a Proxy all stay inside.
 *
 * Bounds of one entry's evaluation:
 * - time: the expressions of an entry run with one time limit, counted once the entry is loaded. When it passes,
 *   QuickJS stops the running expression, which fails as timed out, and a new run with a fresh limit resumes
 *   after it, so one stuck expression costs one limit and the others still count. Some native loops of QuickJS
 *   never look at the limit (`Array.prototype.indexOf` over a huge array-like, say): a hard limit a few
 *   milliseconds later (`node:vm`'s timeout, which stops any JavaScript or WebAssembly on the thread) ends those,
 *   and the QuickJS instance is replaced;
 * - breaker: an expression that times out (or has to be stopped) `timeoutsBeforeSwitchOff` times in a row is
 *   switched off until the application restarts; from then on it is not run at all;
 * - memory and stack: QuickJS's own limits (`expression-engine.ts`);
 * - state: every builtin is frozen and the global object too, so one entry's expression cannot leave anything for
 *   another entry to see (`sandbox-source.ts`).
 *
 * Cost: only the parts of the entry and the context that the expressions read are copied in; the hard limit
 * starts a watchdog thread per run (roughly 0.1 ms, most of the cost of an evaluation), so all expressions of an
 * entry are evaluated in one run, not one run each, and a run of plain expressions whose work is bounded by their
 * size and their input goes without it (`expression-analysis.ts`).
 *
 * @module
 */

import vm from 'node:vm';
import { describeError } from '../../errors.js';
import { type EngineCall, ExpressionEngine } from './expression-engine.js';
import { contextToJson } from './context-snapshot.js';
import { type ExpressionAnalysis, type PathSet, analyseExpression, emptyPathSet, mergePathSets, selectPaths } from './expression-analysis.js';
import type { JsonValue } from '../log-entry.js';
import { expressionFunctionText, expressionScript } from './sandbox-source.js';
import { TimeoutBreaker } from './timeout-breaker.js';

/** What one expression produced: a JSON value, removal (no key set), a failure, or nothing (switched off). */
export interface ExpressionOutcome {
  /** The value, already checked to be JSON data within the size limit. */
  readonly value?: JsonValue;
  /** Why the expression failed (threw, timed out, returned a non-JSON value or a Promise, too large). */
  readonly error?: string;
  /** The expression is switched off and was not run. */
  readonly skipped?: boolean;
}

/** Settings of an {@link ExpressionSandbox}. */
interface ExpressionSandboxOptions {
  /** Time limit of one run of the expressions, milliseconds (a positive integer). */
  readonly timeoutMs: number;
  /** Largest JSON (UTF-8 bytes) one result may have. */
  readonly maxValueBytes: number;
  /** Time-outs in a row after which an expression is switched off. */
  readonly timeoutsBeforeSwitchOff: number;
}

/** Longest a compile (or a start of the engine) may run: at start-up a slow machine must not fail a good config. */
const COMPILE_TIMEOUT_MS = 2000;
/** Longest the entry and context may take to load into the engine (JSON.parse there; see evaluateAll). */
const LOAD_TIMEOUT_MS = 1000;
/** How long after the time limit the hard limit stops what QuickJS did not interrupt. */
const HARD_LIMIT_MARGIN_MS = 20;
/**
 * Largest bound of work (bytes: nodes squared times the largest leaf, see `expression-analysis.ts`) of a run of
 * plain expressions without the hard limit: a few milliseconds at most.
 */
const UNGUARDED_WORK_BYTES = 4 * 1024 * 1024;

const SKIPPED: ExpressionOutcome = Object.freeze({ skipped: true });

/** How a guarded run ended. */
type RunEnd = 'done' | 'hard-limit' | { readonly failed: unknown };

/**
 * Compiled expressions and the QuickJS instance that runs them. Create it once at start-up,
 * {@link ExpressionSandbox.compile} each expression once, then call {@link ExpressionSandbox.evaluateAll} once
 * per entry.
 */
export class ExpressionSandbox {
  readonly #options: ExpressionSandboxOptions;
  readonly #breaker: TimeoutBreaker;
  /** The expressions as configured; index = expression index (kept to compile again in a new instance). */
  readonly #expressions: string[] = [];
  /** What each expression does; below, what the expressions that are not switched off do together. */
  readonly #analyses: ExpressionAnalysis[] = [];
  #entryPaths: PathSet = emptyPathSet();
  #contextPaths: PathSet = emptyPathSet();
  /** Sum of squared node counts when every expression is plain, else `undefined`. */
  #plainWeight: number | undefined = 0;
  #literalChars = 0;
  readonly #evaluations: number[] = [];
  /** The hard limit: a context whose only content is `run`, called under `node:vm`'s timeout. */
  readonly #guard: vm.Context;
  readonly #guardScript: vm.Script;
  #task: (() => void) | undefined;
  #engine: ExpressionEngine | undefined;

  /**
   * Starts a QuickJS instance. Throws a `KafkaLogError` (`KAFKA_LOG_ERR_MISSING_DEPENDENCY`) when the engine's
   * packages are missing.
   */
  constructor(options: ExpressionSandboxOptions) {
    this.#options = options;
    this.#breaker = new TimeoutBreaker(options.timeoutsBeforeSwitchOff);
    const guardGlobal: Record<string, unknown> = Object.create(null);
    guardGlobal.run = () => this.#task?.();
    this.#guard = vm.createContext(guardGlobal, { name: 'kafka-log custom fields guard', codeGeneration: { strings: false, wasm: false } });
    this.#guardScript = new vm.Script('run()', { filename: 'kafka-log:custom-fields-guard' });
    this.#engine = this.#start();
  }

  /** How many expressions are compiled. */
  get size(): number {
    return this.#expressions.length;
  }

  /** How many times expression `index` was run (a switched-off expression is not run). */
  evaluations(index: number): number {
    return this.#evaluations[index] ?? 0;
  }

  /** Whether expression `index` is switched off. */
  isSwitchedOff(index: number): boolean {
    return this.#breaker.isOff(index);
  }

  /**
   * Compiles `expression` (a JavaScript expression with `entry` and `context` in scope) and returns its index.
   * Throws a plain `Error` describing a syntax error or a forbidden construct; the caller names the field.
   */
  compile(expression: string): number {
    // QuickJS has no module loader either way; this only says so plainly.
    if (/\bimport\s*\(/.test(expression)) throw new Error('import() is not available in custom field expressions');
    const index = this.#expressions.length;
    const engine = this.#engine ?? this.#start();
    this.#engine = engine;
    let call: EngineCall | undefined;
    const end = this.#run(COMPILE_TIMEOUT_MS, () => {
      engine.setDeadline(performance.now() + COMPILE_TIMEOUT_MS);
      call = engine.register(index, expressionScript(expression), expressionFunctionText(expression));
    });
    // Code of its own ran (only an expression that closes the function it is compiled into does that, and it
    // is refused): an instance stopped from outside, or holding promise work, is replaced.
    if (end !== 'done' || engine.spoiled) this.#engine = undefined;
    if (end !== 'done' || call === undefined || !('text' in call)) {
      const late = end === 'hard-limit' || (call !== undefined && 'stopped' in call && call.stopped === 'deadline');
      throw new Error(late ? `it did not compile within ${COMPILE_TIMEOUT_MS} ms` : 'it stopped the engine while compiling');
    }
    if (call.text !== '') throw new Error(call.text);
    this.#expressions.push(expression);
    this.#analyses.push(analyseExpression(expressionScript(expression)));
    this.#summarise();
    return index;
  }

  /**
   * Evaluates every compiled expression against `entry` and a data snapshot of `context` (see
   * {@link contextToJson}), in order. Returns one outcome per expression. Never throws.
   */
  evaluateAll(entry: object, context: Readonly<Record<string, unknown>> | undefined): ExpressionOutcome[] {
    const count = this.#expressions.length;
    const outcomes = new Array<ExpressionOutcome>(count);
    let entryJson: string;
    let contextJson: string;
    try {
      entryJson = JSON.stringify(selectPaths(entry, this.#entryPaths)) ?? '{}';
      contextJson = contextToJson(context, this.#contextPaths);
    } catch (error) {
      this.#fill(outcomes, 0, `could not be evaluated: the entry is not JSON (${describeError(error)})`);
      return outcomes;
    }
    const limit = this.#options.timeoutMs;
    const weight = this.#plainWeight;
    const bounded = weight !== undefined && weight * (entryJson.length + contextJson.length + this.#literalChars) <= UNGUARDED_WORK_BYTES;
    if (bounded && this.#runAll(entryJson, contextJson, outcomes)) return outcomes;
    // One expression at a time, under the hard limit (also when the single call above did not complete).
    let next = 0;
    let loaded = false;
    while (next < count) {
      // Switched-off expressions cost nothing, not even a run when they are all that is left.
      while (next < count && this.#breaker.isOff(next)) outcomes[next++] = SKIPPED;
      if (next === count) break;
      let engine: ExpressionEngine;
      try {
        engine = this.#engine ?? this.#start();
        this.#engine = engine;
      } catch (error) {
        this.#fill(outcomes, next, `could not be evaluated: ${describeError(error)}`);
        break;
      }
      if (!loaded) {
        // Loading is JSON.parse and freezing of what the host gives: work bounded by its size, no code of the
        // expressions, so it needs no hard limit; its own deadline only turns away an entry too large to load.
        engine.setDeadline(performance.now() + LOAD_TIMEOUT_MS);
        let load: EngineCall;
        try {
          load = engine.load(entryJson, contextJson);
        } catch {
          this.#engine = undefined;
          load = { stopped: 'failed' };
        }
        if (!('text' in load)) {
          const why = load.stopped === 'deadline' ? `took longer than ${LOAD_TIMEOUT_MS} ms to load` : 'could not be loaded (too large?)';
          this.#fill(outcomes, next, `could not be evaluated: the entry ${why}`);
          break;
        }
        loaded = true;
      }
      let current = -1;
      const end = this.#run(limit, () => {
        engine.setDeadline(performance.now() + limit);
        for (; next < count; next++) {
          if (this.#breaker.isOff(next)) {
            outcomes[next] = SKIPPED;
            continue;
          }
          current = next;
          this.#evaluations[next] = (this.#evaluations[next] ?? 0) + 1;
          const call = engine.evaluate(next);
          if ('text' in call) {
            this.#breaker.recordInTime(next);
            outcomes[next] = parseOutcome(call.text);
            continue;
          }
          const reason = call.stopped === 'deadline' ? `timed out (limit ${limit} ms)` : 'stopped the engine (out of memory or stack)';
          outcomes[next] = this.#stopped(next, reason);
          next++;
          return; // the rest in a new run, with a fresh limit
        }
      });
      if (end !== 'done' || engine.spoiled) {
        // Stopped from outside, or promise work left behind: this instance is not trusted any more.
        this.#engine = undefined;
        loaded = false;
      }
      if (end !== 'done') {
        if (current < 0) {
          this.#fill(outcomes, next, `could not be evaluated: ${end === 'hard-limit' ? 'timed out' : describeError(end.failed)}`);
          break;
        }
        if (outcomes[current] === undefined) {
          const reason = end === 'hard-limit' ? `timed out (limit ${limit} ms)` : `stopped the engine (${describeError(end.failed)})`;
          outcomes[current] = this.#stopped(current, reason);
        }
        next = Math.max(next, current + 1);
      }
    }
    return outcomes;
  }

  /**
   * Plain expressions only: loads the entry and evaluates them all in one call (their work is bounded, they leave
   * no promise work). `false` when that call did not complete: the caller starts over, one expression at a time.
   */
  #runAll(entryJson: string, contextJson: string, outcomes: ExpressionOutcome[]): boolean {
    let engine: ExpressionEngine;
    let call: EngineCall;
    try {
      engine = this.#engine ?? this.#start();
      this.#engine = engine;
      engine.setDeadline(performance.now() + LOAD_TIMEOUT_MS + this.#options.timeoutMs);
      call = engine.runAll(entryJson, contextJson);
    } catch {
      this.#engine = undefined;
      return false;
    }
    if (!('text' in call)) return false;
    let list: unknown;
    try {
      list = JSON.parse(call.text);
    } catch {
      return false;
    }
    if (!Array.isArray(list) || list.length !== outcomes.length) return false;
    for (let index = 0; index < outcomes.length; index++) {
      const outcome = list[index] as ExpressionOutcome | null;
      if (outcome === null) {
        outcomes[index] = SKIPPED;
        continue;
      }
      this.#evaluations[index] = (this.#evaluations[index] ?? 0) + 1;
      this.#breaker.recordInTime(index);
      outcomes[index] = outcome;
    }
    return true;
  }

  /** An outcome for an expression that timed out or had to be stopped, switching it off after too many. */
  #stopped(index: number, reason: string): ExpressionOutcome {
    if (!this.#breaker.recordStopped(index)) return { error: reason };
    try {
      this.#engine?.switchOff(index);
    } catch {
      this.#engine = undefined;
    }
    this.#summarise();
    const times = this.#options.timeoutsBeforeSwitchOff;
    return { error: `${reason}, ${times} ${times === 1 ? 'time' : 'times in a row'}: switched off until the application restarts` };
  }

  /** What the expressions that are not switched off read and do together. */
  #summarise(): void {
    this.#entryPaths = emptyPathSet();
    this.#contextPaths = emptyPathSet();
    this.#plainWeight = 0;
    this.#literalChars = 0;
    this.#analyses.forEach((analysis, index) => {
      if (this.#breaker.isOff(index)) return;
      mergePathSets(this.#entryPaths, analysis.reads.entry);
      mergePathSets(this.#contextPaths, analysis.reads.context);
      const nodes = analysis.plainNodes;
      this.#plainWeight = nodes === undefined || this.#plainWeight === undefined ? undefined : this.#plainWeight + nodes * nodes;
      this.#literalChars = Math.max(this.#literalChars, analysis.literalChars);
    });
  }

  /** Gives every expression from `from` on that is not switched off the failure `error`. */
  #fill(outcomes: ExpressionOutcome[], from: number, error: string): void {
    for (let index = from; index < outcomes.length; index++) {
      if (outcomes[index] === undefined) outcomes[index] = this.#breaker.isOff(index) ? SKIPPED : { error };
    }
  }

  /** Starts a QuickJS instance and compiles the expressions again (they compiled before). */
  #start(): ExpressionEngine {
    let engine: ExpressionEngine | undefined;
    let problem: unknown;
    const end = this.#run(COMPILE_TIMEOUT_MS, () => {
      try {
        const started = new ExpressionEngine(this.#options.maxValueBytes, performance.now() + COMPILE_TIMEOUT_MS);
        for (let index = 0; index < this.#expressions.length; index++) {
          const expression = this.#expressions[index]!;
          started.setDeadline(performance.now() + COMPILE_TIMEOUT_MS);
          started.register(index, expressionScript(expression), expressionFunctionText(expression));
          if (this.#breaker.isOff(index)) started.switchOff(index);
        }
        engine = started;
      } catch (error) {
        problem = error;
      }
    });
    if (engine !== undefined) return engine;
    if (problem !== undefined) throw problem;
    throw new Error(end === 'hard-limit' ? `the expression engine did not start within ${COMPILE_TIMEOUT_MS} ms` : 'the expression engine did not start');
  }

  /**
   * Runs `task` under the hard limit: `limitMs` plus a margin, after which `node:vm` stops the thread's work;
   * without it when `limitMs` is `undefined` (a run whose work is bounded).
   */
  #run(limitMs: number | undefined, task: () => void): RunEnd {
    if (limitMs === undefined) {
      try {
        task();
        return 'done';
      } catch (error) {
        return { failed: error };
      }
    }
    this.#task = task;
    try {
      this.#guardScript.runInContext(this.#guard, { timeout: limitMs + HARD_LIMIT_MARGIN_MS });
      return 'done';
    } catch (error) {
      return (error as { code?: unknown } | null)?.code === 'ERR_SCRIPT_EXECUTION_TIMEOUT' ? 'hard-limit' : { failed: error };
    } finally {
      this.#task = undefined;
    }
  }
}

/** Reads an outcome made by the runner inside QuickJS. */
function parseOutcome(text: string): ExpressionOutcome {
  try {
    return JSON.parse(text) as ExpressionOutcome;
  } catch {
    return { error: 'could not be evaluated: the engine gave an unreadable result' };
  }
}
