#!/usr/bin/env node
// Writes the README's options tables (the adapters', the publisher's and the schema registry's) from the tables the
// library exports, between the `<!-- generated: NAME -->` and `<!-- end generated: NAME -->` markers. Run after
// the build: `npm run docs:options`. A unit test renders the same tables from the sources and fails on any
// difference with the README.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const code = (text) => `\`${text}\``;

function formatDefault(row) {
  if (row.defaultText !== undefined) return row.defaultText;
  if (row.required) return 'required';
  const value = row.default;
  if (value === undefined) return '-';
  if (value === Number.POSITIVE_INFINITY) return 'unbounded';
  if (value instanceof Set) return value.size === 0 ? 'none' : [...value].map(code).join(', ');
  if (Array.isArray(value)) return value.length === 0 ? 'none' : code(JSON.stringify(value));
  return code(typeof value === 'string' ? value : JSON.stringify(value));
}

function kongCell(row, strip) {
  if (row.kongNote !== undefined) return row.kongNote;
  if (row.kong === undefined) return '-';
  return `${code(row.kong.slice(strip.length))}${row.unit === 's' ? ' (s)' : ''}`;
}

function optionCell(row) {
  if (row.option === undefined) return '-';
  return `${row.option.split(' + ').map(code).join(' + ')}${row.unit === 's' ? ' (ms)' : ''}`;
}

function meaningCell(row) {
  if (row.between === undefined) return row.meaning;
  const [least, greatest] = row.between;
  return `${row.meaning}; Kong allows ${least} to ${greatest}${row.unit === 's' ? ' s' : ''}`;
}

/** A Markdown table of `rows` (those the README shows), Kong paths shown without `strip`. */
export function renderOptionsTable(rows, header, strip = '') {
  const lines = [header, '|---|---|---|---|'];
  for (const row of rows) {
    if (!row.readme) continue;
    lines.push(`| ${kongCell(row, strip)} | ${optionCell(row)} | ${formatDefault(row)} | ${meaningCell(row).replaceAll('|', '\\|')} |`);
  }
  return lines.join('\n');
}

/** The README's generated blocks, by marker name, from the library's tables. */
export function generatedBlocks({ publisher, registry, adapter }) {
  return {
    'adapter-options': renderOptionsTable(adapter, '| Kong counterpart | option | default | meaning |'),
    'publisher-options': renderOptionsTable(publisher, '| Kong option (`config.`) | option | default | meaning |'),
    'schema-registry-options': renderOptionsTable(
      registry,
      '| Kong option (`config.schema_registry.confluent.`) | option (`schemaRegistry.`) | default | meaning |',
      'confluent.',
    ),
  };
}

/** `readme` with each generated block replaced; throws when a marker is missing. */
export function withGeneratedBlocks(readme, blocks) {
  let text = readme;
  for (const [name, content] of Object.entries(blocks)) {
    const begin = `<!-- generated: ${name} (npm run docs:options) -->`;
    const end = `<!-- end generated: ${name} -->`;
    const from = text.indexOf(begin);
    const to = text.indexOf(end);
    if (from === -1 || to < from) throw new Error(`README.md has no "${begin}" ... "${end}" block`);
    text = `${text.slice(0, from + begin.length)}\n${content}\n${text.slice(to)}`;
  }
  return text;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..');
  const { ADAPTER_OPTIONS_TABLE, PUBLISHER_OPTIONS_TABLE, SCHEMA_REGISTRY_OPTIONS_TABLE } = await import(join(root, 'dist', 'index.mjs'));
  const file = join(root, 'README.md');
  const before = readFileSync(file, 'utf8');
  const after = withGeneratedBlocks(
    before,
    generatedBlocks({ publisher: PUBLISHER_OPTIONS_TABLE, registry: SCHEMA_REGISTRY_OPTIONS_TABLE, adapter: ADAPTER_OPTIONS_TABLE }),
  );
  if (after !== before) writeFileSync(file, after);
  process.stdout.write(after === before ? 'README.md options tables are up to date\n' : 'README.md options tables written\n');
}
