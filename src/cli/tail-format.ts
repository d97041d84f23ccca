/**
 * One line per entry for `kafka-log tail`: time (ISO), method, status, latency, URI, client IP; colored by
 * status class only when writing to a terminal. Values come from topic data, written by whoever could send a
 * request: their control characters are shown escaped (`\x1b`), never sent to the terminal.
 *
 * @module
 */
import { escapeControls } from './terminal-text.js';

const RESET = '\u001b[0m';
const DIM = '\u001b[2m';
const STATUS_COLORS: Record<number, string> = { 2: '\u001b[32m', 3: '\u001b[36m', 4: '\u001b[33m', 5: '\u001b[31m' };

function get(value: unknown, ...path: string[]): unknown {
  let current = value;
  for (const name of path) {
    if (typeof current !== 'object' || current === null) return undefined;
    current = (current as Record<string, unknown>)[name];
  }
  return current;
}

function text(value: unknown, fallback = '-'): string {
  return typeof value === 'string' && value.length > 0 ? escapeControls(value) : typeof value === 'number' ? String(value) : fallback;
}

function isoTime(startedAt: unknown): string {
  if (typeof startedAt !== 'number' || !Number.isFinite(startedAt)) return '-';
  const date = new Date(startedAt);
  return Number.isNaN(date.getTime()) ? '-' : date.toISOString();
}

/**
 * Formats one entry, e.g. `2024-05-01T12:00:00.000Z GET 200 12ms /orders/42?expand=items 10.1.2.3`.
 * Missing fields print as `-`.
 */
export function formatEntryLine(entry: unknown, color: boolean): string {
  const status = get(entry, 'response', 'status');
  const latency = get(entry, 'latencies', 'request');
  const time = isoTime(get(entry, 'started_at'));
  const statusText = text(status);
  const paint = color && typeof status === 'number' ? STATUS_COLORS[Math.floor(status / 100)] : undefined;
  const parts = [
    color ? `${DIM}${time}${RESET}` : time,
    text(get(entry, 'request', 'method')),
    paint ? `${paint}${statusText}${RESET}` : statusText,
    typeof latency === 'number' ? `${latency}ms` : '-',
    text(get(entry, 'request', 'uri')),
    text(get(entry, 'client_ip')),
  ];
  return parts.join(' ');
}

/** Whether to color: a terminal, and neither `NO_COLOR` nor `TERM=dumb`; `FORCE_COLOR` forces it. */
export function useColor(isTTY: boolean | undefined, env: Readonly<Record<string, string | undefined>>): boolean {
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0') return true;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  return isTTY === true && env.TERM !== 'dumb';
}
