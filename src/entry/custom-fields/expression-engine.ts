/**
 * One QuickJS instance prepared for custom-field expressions (see `sandbox-source.ts`), driven with strings only:
 * the host never reads a property of a QuickJS object, so nothing an expression makes (a getter, a Proxy, a
 * thrown object) runs outside the time limit or touches the application.
 *
 * Time: every call has a deadline; QuickJS asks the interrupt handler about it while it runs JavaScript and
 * regular expressions, and then stops with an uncatchable error. Native loops that never ask (e.g.
 * `Array.prototype.indexOf` over a huge array-like) are stopped by the caller's hard limit (see `sandbox.ts`),
 * after which this instance is thrown away.
 *
 * @module
 */

import type { QuickJSContext, QuickJSHandle, QuickJSRuntime } from 'quickjs-emscripten-core';
import { newQuickJs } from './quickjs-engine.js';
import { setupSource } from './sandbox-source.js';

/** QuickJS stack limit: deep recursion ends as a QuickJS error well before the host's own stack is at risk. */
const STACK_BYTES = 64 * 1024;
/** QuickJS heap limit: this much plus {@link HEAP_BYTES_PER_INPUT_BYTE} times the entry and context JSON. */
const BASE_HEAP_BYTES = 8 * 1024 * 1024;
/** Room for the parsed entry: QuickJS objects take several times their JSON text. */
const HEAP_BYTES_PER_INPUT_BYTE = 12;
/** Most promise jobs an expression may leave behind (they run within its time limit). */
const MAX_PROMISE_JOBS = 1000;

/** What a call into QuickJS gave: its text, or that the deadline stopped it, or that it failed otherwise. */
export type EngineCall = { readonly text: string } | { readonly stopped: 'deadline' | 'failed' };

/** A QuickJS instance holding the runner of `sandbox-source.ts`. */
export class ExpressionEngine {
  readonly #runtime: QuickJSRuntime;
  readonly #context: QuickJSContext;
  readonly #register: QuickJSHandle;
  readonly #load: QuickJSHandle;
  readonly #evaluate: QuickJSHandle;
  readonly #runAll: QuickJSHandle;
  readonly #switchOff: QuickJSHandle;
  #deadline = Number.POSITIVE_INFINITY;
  #interrupted = false;
  /** Promise work is left that could not be run: the instance must be replaced. */
  #spoiled = false;

  /** Loads a QuickJS instance and runs the setup script (`deadline`: `performance.now()` value). */
  constructor(maxValueBytes: number, deadline: number) {
    this.#runtime = newQuickJs().newRuntime();
    this.#runtime.setMaxStackSize(STACK_BYTES);
    this.#runtime.setMemoryLimit(BASE_HEAP_BYTES);
    this.#runtime.setInterruptHandler(() => {
      if (performance.now() <= this.#deadline) return false;
      this.#interrupted = true;
      return true;
    });
    this.#context = this.#runtime.newContext();
    this.#deadline = deadline;
    const setup = this.#context.evalCode(setupSource(maxValueBytes), 'kafka-log:custom-fields-setup');
    if (setup.error !== undefined) {
      setup.error.dispose();
      throw new Error(this.#interrupted ? 'the engine took too long to start' : 'the engine setup failed');
    }
    const runner = setup.value;
    this.#register = this.#context.getProp(runner, 'register');
    this.#load = this.#context.getProp(runner, 'load');
    this.#evaluate = this.#context.getProp(runner, 'evaluate');
    this.#runAll = this.#context.getProp(runner, 'runAll');
    this.#switchOff = this.#context.getProp(runner, 'switchOff');
    runner.dispose();
  }

  /** Whether this instance must be replaced (promise work left that could not be run). */
  get spoiled(): boolean {
    return this.#spoiled;
  }

  /** Sets the deadline of the calls that follow (`performance.now()` value). */
  setDeadline(deadline: number): void {
    this.#deadline = deadline;
    this.#interrupted = false;
  }

  /**
   * Compiles `source` as expression `index`; the text is `''` on success, else why it failed. Promise work
   * left behind (only code the expression ran of its own, which is refused, makes any) spoils this instance.
   */
  register(index: number, source: string, functionText: string): EngineCall {
    const call = this.#call(this.#register, [this.#context.newNumber(index), this.#context.newString(source), this.#context.newString(functionText)]);
    if (this.#runtime.hasPendingJob()) this.#spoiled = true;
    return call;
  }

  /** Parses and freezes the entry and the context the next evaluations see. */
  load(entryJson: string, contextJson: string): EngineCall {
    this.#runtime.setMemoryLimit(BASE_HEAP_BYTES + HEAP_BYTES_PER_INPUT_BYTE * (entryJson.length + contextJson.length));
    return this.#call(this.#load, [this.#context.newString(entryJson), this.#context.newString(contextJson)]);
  }

  /**
   * Loads the entry and the context and evaluates every expression not switched off, in one call: the text is a
   * JSON array of outcomes (`null` for one switched off). Only for expressions that cannot leave promise work
   * (plain ones, see `expression-analysis.ts`).
   */
  runAll(entryJson: string, contextJson: string): EngineCall {
    this.#runtime.setMemoryLimit(BASE_HEAP_BYTES + HEAP_BYTES_PER_INPUT_BYTE * (entryJson.length + contextJson.length));
    return this.#call(this.#runAll, [this.#context.newString(entryJson), this.#context.newString(contextJson)]);
  }

  /** Makes {@link runAll} skip expression `index`. */
  switchOff(index: number): void {
    this.#call(this.#switchOff, [this.#context.newNumber(index)]);
  }

  /**
   * Evaluates expression `index`; the text is an outcome as JSON (`{"value":...}`, `{}` or `{"error":"..."}`).
   * Promise work it left behind runs now, within the same deadline: when that work is not done by then, the
   * evaluation counts as stopped by the deadline (its value is dropped).
   */
  evaluate(index: number): EngineCall {
    const call = this.#call(this.#evaluate, [this.#context.newNumber(index)]);
    if (!('text' in call) || !this.#runtime.hasPendingJob()) return call;
    this.#runPromiseJobs();
    return this.#interrupted || this.#spoiled ? { stopped: 'deadline' } : call;
  }

  #call(fn: QuickJSHandle, args: QuickJSHandle[]): EngineCall {
    try {
      const result = this.#context.callFunction(fn, this.#context.undefined, ...args);
      if (result.error !== undefined) {
        // Never read what was thrown: it is whatever QuickJS had (an interrupt, out of memory), and reading it
        // could run code outside the deadline.
        result.error.dispose();
        return { stopped: this.#interrupted ? 'deadline' : 'failed' };
      }
      const value = result.value;
      const text = this.#context.typeof(value) === 'string' ? this.#context.getString(value) : '';
      value.dispose();
      return { text };
    } finally {
      for (const arg of args) arg.dispose();
    }
  }

  /** Runs queued promise jobs; when some are still queued (too many, or the deadline passed), spoils this instance. */
  #runPromiseJobs(): void {
    let budget = MAX_PROMISE_JOBS;
    while (budget > 0 && this.#runtime.hasPendingJob() && !this.#interrupted) {
      const ran = this.#runtime.executePendingJobs(budget);
      if (ran.error !== undefined) {
        ran.error.dispose();
        budget--;
      } else {
        budget -= Math.max(ran.value, 1);
      }
    }
    if (this.#runtime.hasPendingJob()) this.#spoiled = true;
  }
}
