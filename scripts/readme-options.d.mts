// Types of scripts/readme-options.mjs (the README's generated options tables).
import type { OptionsTableRow } from '../src/index.js';

/** A Markdown table of `rows` (those the README shows), Kong paths shown without `strip`. */
export function renderOptionsTable(rows: readonly OptionsTableRow[], header: string, strip?: string): string;

/** The README's generated blocks, by marker name, from the library's tables. */
export function generatedBlocks(tables: {
  publisher: readonly OptionsTableRow[];
  registry: readonly OptionsTableRow[];
  adapter: readonly OptionsTableRow[];
}): Record<string, string>;

/** `readme` with each generated block replaced; throws when a marker is missing. */
export function withGeneratedBlocks(readme: string, blocks: Record<string, string>): string;
