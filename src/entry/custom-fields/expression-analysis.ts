/**
 * What a custom-field expression does, found with a JavaScript parser (acorn) at compile time, to make its
 * evaluation cheaper without weakening the sandbox:
 *
 * 1. **What it reads** of `entry` and `context`, so that only those parts are copied into the engine for each
 *    entry (loading the whole entry is most of the work of an evaluation).
 * 2. **Whether its work is bounded by its size**: an expression without calls, functions, assignments, regular
 *    expression or BigInt literals, getters or methods (a "plain" expression: member access, operators,
 *    conditionals, object, array and template literals) cannot loop, recurse or run any code of its own; it can
 *    only combine what it reads and its literals, each intermediate value being at most the sum of the values
 *    below it in the syntax tree. So it does at most (nodes squared) x (largest leaf) bytes of work, and the
 *    sandbox can leave out the hard time limit (a watchdog thread per run) when that product is small.
 *
 * Reads:
 * The answer errs on the side of reading more: every identifier named `entry` or `context` counts as a read
 * (whatever scope it is in), a chain of member accesses with static names (`entry.request.headers['x-id']`) reads
 * the value at its end, a method call (`entry.request.uri.split('?')`) reads the object it is called on, and any
 * other use of the name (`Object.keys(entry)`, `arguments`, an expression the parser does not understand) reads
 * all of it. Reading less than the expression uses would change its result, never the host's safety: the engine
 * is the boundary, not this analysis.
 *
 * @module
 */

import { parse } from 'acorn';

/** A set of paths into a value: `all`, or the children that are read (a path ending at a child reads it all). */
export interface PathSet {
  all: boolean;
  readonly children: Map<string, PathSet>;
}

/** What one expression reads. */
interface ExpressionReads {
  readonly entry: PathSet;
  readonly context: PathSet;
}

/** What {@link analyseExpression} found. */
export interface ExpressionAnalysis {
  readonly reads: ExpressionReads;
  /** Syntax tree nodes of a plain expression (see the module comment); `undefined` for any other. */
  readonly plainNodes: number | undefined;
  /** Characters of its longest string literal or template part. */
  readonly literalChars: number;
}

/** Node types of plain expressions (with the checks in {@link isPlainNode}). */
const PLAIN_NODES: ReadonlySet<string> = new Set([
  'Literal',
  'Identifier',
  'ThisExpression',
  'MemberExpression',
  'ChainExpression',
  'UnaryExpression',
  'BinaryExpression',
  'LogicalExpression',
  'ConditionalExpression',
  'SequenceExpression',
  'TemplateLiteral',
  'TemplateElement',
  'ObjectExpression',
  'Property',
  'ArrayExpression',
  'SpreadElement',
]);

/** An empty path set: nothing is read. */
export function emptyPathSet(): PathSet {
  return { all: false, children: new Map() };
}

/** Adds `path` to `set` (an empty path: everything). */
export function addPath(set: PathSet, path: readonly string[]): void {
  let node = set;
  for (const segment of path) {
    if (node.all) return;
    let child = node.children.get(segment);
    if (child === undefined) {
      child = emptyPathSet();
      node.children.set(segment, child);
    }
    node = child;
  }
  node.all = true;
  node.children.clear();
}

/** Adds everything `from` holds to `into`. */
export function mergePathSets(into: PathSet, from: PathSet): void {
  if (into.all) return;
  if (from.all) {
    into.all = true;
    into.children.clear();
    return;
  }
  for (const [segment, child] of from.children) {
    let target = into.children.get(segment);
    if (target === undefined) {
      target = emptyPathSet();
      into.children.set(segment, target);
    }
    mergePathSets(target, child);
  }
}

/**
 * The part of `value` that `set` selects: own properties of plain objects along the paths; arrays and
 * primitives are taken whole. The copy has a null prototype, so a `__proto__` key stays a plain key.
 */
export function selectPaths(value: unknown, set: PathSet): unknown {
  if (set.all || typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  const copy: Record<string, unknown> = Object.create(null);
  for (const [segment, child] of set.children) {
    if (Object.hasOwn(value, segment)) copy[segment] = selectPaths((value as Record<string, unknown>)[segment], child);
  }
  return copy;
}

/** An ESTree node, as far as the walk below looks at it. */
interface Node {
  readonly type: string;
  readonly [key: string]: unknown;
}

function isNode(value: unknown): value is Node {
  return typeof value === 'object' && value !== null && typeof (value as { type?: unknown }).type === 'string';
}

/**
 * Analyses an expression, given the exact script the engine compiles (`script`, whose function body returns the
 * expression in parentheses).
 */
export function analyseExpression(script: string): ExpressionAnalysis {
  const reads: ExpressionReads = { entry: emptyPathSet(), context: emptyPathSet() };
  const returned = returnedExpression(script);
  if (returned === undefined) {
    addPath(reads.entry, []);
    addPath(reads.context, []);
    return { reads, plainNodes: undefined, literalChars: script.length };
  }
  let nodes = 0;
  let plain = true;
  let literalChars = 0;
  const parents = new Map<Node, Node>();
  const pending: Node[] = [returned];
  while (pending.length > 0) {
    const node = pending.pop()!;
    nodes++;
    if (plain && !isPlainNode(node)) plain = false;
    if (node.type === 'Literal' && typeof node.value === 'string') literalChars = Math.max(literalChars, node.value.length);
    if (node.type === 'TemplateElement') literalChars = Math.max(literalChars, String((node.value as { raw?: unknown }).raw).length);
    if (node.type === 'Identifier') noteReference(node, parents, reads);
    for (const key of Object.keys(node)) {
      const child = node[key];
      if (Array.isArray(child)) {
        for (const item of child) {
          if (isNode(item)) {
            parents.set(item, node);
            pending.push(item);
          }
        }
      } else if (isNode(child)) {
        parents.set(child, node);
        pending.push(child);
      }
    }
  }
  return { reads, plainNodes: plain ? nodes : undefined, literalChars };
}

/** Whether a node may be part of a plain expression. */
function isPlainNode(node: Node): boolean {
  if (!PLAIN_NODES.has(node.type)) return false;
  if (node.type === 'Literal') return node.regex === undefined && node.bigint === undefined;
  // Getters and methods are functions, which ToPrimitive or JSON.stringify would call.
  if (node.type === 'Property') return node.kind === 'init' && node.method !== true;
  return true;
}

/** The expression the compiled function returns, or `undefined` when the script has another shape. */
function returnedExpression(script: string): Node | undefined {
  let program: Node;
  try {
    program = parse(script, { ecmaVersion: 'latest', sourceType: 'script' }) as unknown as Node;
  } catch {
    return undefined;
  }
  const body = program.body as Node[];
  if (body.length !== 1 || body[0]!.type !== 'ExpressionStatement') return undefined;
  const fn = body[0]!.expression as Node;
  if (fn.type !== 'FunctionExpression') return undefined;
  const statements = (fn.body as Node).body as Node[];
  const last = statements.at(-1);
  if (statements.length !== 2 || last?.type !== 'ReturnStatement' || !isNode(last.argument)) return undefined;
  return last.argument;
}

/** Records what one identifier reads, when it names `entry`, `context` or `arguments`. */
function noteReference(node: Node, parents: Map<Node, Node>, reads: ExpressionReads): void {
  const name = node.name;
  if (name !== 'entry' && name !== 'context' && name !== 'arguments') return;
  const parent = parents.get(node);
  if (parent !== undefined && isPropertyName(node, parent)) return;
  if (name === 'arguments') {
    addPath(reads.entry, []);
    addPath(reads.context, []);
    return;
  }
  const path: string[] = [];
  let current: Node = node;
  let above = parent;
  while (above !== undefined) {
    if (above.type === 'ChainExpression') {
      current = above;
    } else if (above.type === 'MemberExpression' && above.object === current) {
      const segment = staticName(above);
      if (segment === undefined) break;
      path.push(segment);
      current = above;
    } else {
      break;
    }
    above = parents.get(current);
  }
  // A method called on the value at the end of the chain gets the object it is called on as `this`: read it whole.
  const calls =
    above !== undefined &&
    ((above.type === 'CallExpression' && above.callee === current) || (above.type === 'TaggedTemplateExpression' && above.tag === current));
  if (calls) path.pop();
  addPath(name === 'entry' ? reads.entry : reads.context, path);
}

/** The property name of a member access with a static name (`.name`, `['name']`, `[0]`), else `undefined`. */
function staticName(member: Node): string | undefined {
  const property = member.property as Node;
  if (member.computed !== true) return property.type === 'Identifier' ? (property.name as string) : undefined;
  if (property.type === 'Literal' && (typeof property.value === 'string' || typeof property.value === 'number')) {
    return String(property.value);
  }
  return undefined;
}

/** Whether an identifier is a property name rather than a reference (`x.entry`, `{ entry: 1 }`, a label). */
function isPropertyName(node: Node, parent: Node): boolean {
  switch (parent.type) {
    case 'MemberExpression':
      return parent.property === node && parent.computed !== true;
    case 'Property':
    case 'PropertyDefinition':
    case 'MethodDefinition':
      return parent.key === node && parent.computed !== true && parent.shorthand !== true;
    case 'LabeledStatement':
    case 'BreakStatement':
    case 'ContinueStatement':
      return true;
    default:
      return false;
  }
}
