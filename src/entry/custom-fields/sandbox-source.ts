/**
 * The text QuickJS runs for custom-field expressions: the setup script (written in `sandbox-setup.ts`, where the
 * type checker and the linter see it) and the text each expression is compiled from.
 *
 * @module
 */
import { createJsonValueCheck } from './json-value-check.js';
import { sandboxSetup } from './sandbox-setup.js';

/** Longest description of a thrown value or failure, in characters. */
const MAX_MESSAGE_CHARS = 500;

/**
 * The JavaScript text of the function an expression is compiled to, and that QuickJS's `Function.prototype.toString`
 * must give back for the compiled value: when the expression closes the parenthesis to run statements of its own,
 * the value is some other function (or none), and the expression is refused. The newline before `)` lets an
 * expression end in a line comment.
 */
export function expressionFunctionText(expression: string): string {
  return `function (entry, context) { 'use strict'; return (\n${expression}\n); }`;
}

/** The script that compiles an expression: its completion value is the function. */
export function expressionScript(expression: string): string {
  return `(${expressionFunctionText(expression)})`;
}

/**
 * The setup script: {@link sandboxSetup} called with the limits and the JSON-value check's factory, both passed as
 * their source text; its completion value is the frozen runner object.
 */
export function setupSource(maxValueBytes: number): string {
  return `'use strict';\n(${sandboxSetup.toString()})(${maxValueBytes}, ${MAX_MESSAGE_CHARS}, ${createJsonValueCheck.toString()});`;
}
