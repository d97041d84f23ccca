// The README's options tables are generated from the options tables the library exports (`npm run
// docs:options`); this renders them again from the sources and fails on any difference.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ADAPTER_OPTIONS_TABLE } from '../../src/capture/adapter-options-table.js';
import { PUBLISHER_OPTIONS_TABLE } from '../../src/publisher/kong-plugin-config.js';
import { SCHEMA_REGISTRY_OPTIONS_TABLE } from '../../src/registry/kong-schema-registry-config.js';
import { generatedBlocks, withGeneratedBlocks } from '../../scripts/readme-options.mjs';

describe('README options tables', () => {
  it('are what `npm run docs:options` writes from the options tables (run it after changing an option)', () => {
    const readme = readFileSync(path.resolve('README.md'), 'utf8');
    const blocks = generatedBlocks({ publisher: PUBLISHER_OPTIONS_TABLE, registry: SCHEMA_REGISTRY_OPTIONS_TABLE, adapter: ADAPTER_OPTIONS_TABLE });
    expect(withGeneratedBlocks(readme, blocks)).toBe(readme);
  });

  it('show every Kong field the table does not sum up, and every option', () => {
    const markdown = generatedBlocks({ publisher: PUBLISHER_OPTIONS_TABLE, registry: SCHEMA_REGISTRY_OPTIONS_TABLE, adapter: ADAPTER_OPTIONS_TABLE })['publisher-options'] ?? '';
    for (const row of PUBLISHER_OPTIONS_TABLE.filter((r) => r.readme)) {
      if (row.kong !== undefined) expect(markdown, row.kong).toContain(`\`${row.kong}\``);
      if (row.option !== undefined) expect(markdown, row.option).toContain(`\`${row.option.split(' + ')[0]}\``);
    }
  });

  it('show every adapter option, entry options included', () => {
    const markdown = generatedBlocks({ publisher: PUBLISHER_OPTIONS_TABLE, registry: SCHEMA_REGISTRY_OPTIONS_TABLE, adapter: ADAPTER_OPTIONS_TABLE })['adapter-options'] ?? '';
    for (const option of ['sink', 'logRequestBody', 'maxBodySize', 'trustProxy', 'filter', 'sampleRate', 'echoRequestIdHeader', 'generateRequestId', 'skip']) {
      expect(markdown, option).toContain(`| \`${option}\` |`);
    }
    expect(markdown).toContain('| `redactHeaders` | `authorization`, `proxy-authorization` |');
    expect(markdown).toContain('| `sampleRate` | `1` |');
  });

  it('fail loudly when a marker is missing', () => {
    expect(() => withGeneratedBlocks('# no markers\n', { 'publisher-options': '|' })).toThrow(/publisher-options/);
  });
});
