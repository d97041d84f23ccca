// Who may import whom in src/: the data path reads left to right (adapter -> capture -> entry -> publisher ->
// registry -> transport), and each room knows only what is on its left or shared. Read from the sources with the
// TypeScript parser: static imports and re-exports, `import type`, `import()` and `require()` with a literal name.
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const SRC = resolve(__dirname, '../../src');

interface Import {
  /** The importing file, relative to src/ (`entry/build.ts`). */
  readonly from: string;
  /** A project file relative to src/ (`errors.ts`), or the package / builtin name as written. */
  readonly to: string;
  readonly project: boolean;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

function importsOf(file: string): Import[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const names: string[] = [];
  const visit = (node: ts.Node): void => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier !== undefined) {
      if (ts.isStringLiteral(node.moduleSpecifier)) names.push(node.moduleSpecifier.text);
    } else if (ts.isCallExpression(node) && node.arguments.length > 0 && ts.isStringLiteral(node.arguments[0]!)) {
      const callee = node.expression;
      if (callee.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(callee) && callee.text === 'require')) {
        names.push((node.arguments[0] as ts.StringLiteral).text);
      }
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
      names.push(node.argument.literal.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  const from = relative(SRC, file);
  return names.map((name) =>
    name.startsWith('.')
      ? { from, to: relative(SRC, resolve(dirname(file), name)).replace(/\.js$/, '.ts'), project: true }
      : { from, to: name, project: false },
  );
}

const imports = sourceFiles(SRC).flatMap(importsOf);
const inRoom = (path: string, room: string): boolean => path.startsWith(`${room}/`);
const show = (list: readonly Import[]): string[] => list.map((i) => `${i.from} -> ${i.to}`);

describe('import rules of src/', () => {
  it('reads the imports it checks (the parser sees the project graph)', () => {
    expect(imports.filter((i) => i.project).length).toBeGreaterThan(200);
    expect(imports).toContainEqual({ from: 'entry/build.ts', to: 'errors.ts', project: true });
    expect(imports.every((i) => !i.project || !i.to.startsWith('..'))).toBe(true);
  });

  it('entry/ imports only entry/, errors.ts and the pure option checks, and no I/O', () => {
    // options/check.ts is the one module of option checks (field-named errors); it imports nothing but errors.ts.
    const shared = new Set(['errors.ts', 'options/check.ts']);
    const fromEntry = imports.filter((i) => inRoom(i.from, 'entry'));
    expect(show(fromEntry.filter((i) => i.project && !inRoom(i.to, 'entry') && !shared.has(i.to)))).toEqual([]);
    expect(show(imports.filter((i) => i.from === 'options/check.ts' && i.project && i.to !== 'errors.ts'))).toEqual([]);
    // Node builtins that do no I/O: buffers, stream types, and node:vm for the expression sandbox. The QuickJS
    // engine reads its WebAssembly file once, when the first expression field is compiled (node:fs, node:module
    // to find the package): start-up work, never per entry.
    const pure = new Set(['node:buffer', 'node:stream', 'node:vm']);
    const engineLoader = 'entry/custom-fields/quickjs-engine.ts';
    const builtins = fromEntry.filter((i) => !i.project && i.to.startsWith('node:') && !pure.has(i.to));
    expect(show(builtins.filter((i) => i.from !== engineLoader))).toEqual([]);
  });

  it('adapters/ and capture/ know no transport and no registry', () => {
    const front = imports.filter((i) => i.project && (inRoom(i.from, 'adapters') || inRoom(i.from, 'capture')));
    expect(show(front.filter((i) => inRoom(i.to, 'transport') || inRoom(i.to, 'registry')))).toEqual([]);
  });

  it('capture/ knows no framework adapter', () => {
    const capture = imports.filter((i) => i.project && inRoom(i.from, 'capture'));
    expect(show(capture.filter((i) => inRoom(i.to, 'adapters')))).toEqual([]);
  });

  it('transport/ knows no entry, capture, adapter or registry: it moves bytes with keys and headers', () => {
    const transport = imports.filter((i) => i.project && inRoom(i.from, 'transport'));
    const foreign = ['entry', 'capture', 'adapters', 'registry', 'publisher'];
    expect(show(transport.filter((i) => foreign.some((room) => inRoom(i.to, room))))).toEqual([]);
  });

  it('nothing imports cli/ or testing/ from outside', () => {
    const outside = imports.filter(
      (i) => i.project && ((inRoom(i.to, 'cli') && !inRoom(i.from, 'cli')) || (inRoom(i.to, 'testing') && !inRoom(i.from, 'testing'))),
    );
    expect(show(outside)).toEqual([]);
  });

  it('only transport/ and the CLI consumer import a Kafka client', () => {
    const clients = imports.filter((i) => !i.project && /^(kafkajs|@platformatic\/kafka)(\/|$)/.test(i.to));
    expect(clients.length).toBeGreaterThan(0);
    expect(show(clients.filter((i) => !inRoom(i.from, 'transport') && i.from !== 'cli/kafka-consumer.ts'))).toEqual([]);
  });
});

describe('layout of src/', () => {
  it('has no source line over 160 characters', () => {
    const long = sourceFiles(SRC).flatMap((file) =>
      readFileSync(file, 'utf8')
        .split('\n')
        .flatMap((line, index) => (line.length > 160 ? [`${relative(SRC, file)}:${index + 1} (${line.length})`] : [])),
    );
    expect(long).toEqual([]);
  });
});
