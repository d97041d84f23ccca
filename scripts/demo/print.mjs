// How the demo shows entries: one compact line each (like `kafka-log tail`), and one entry in full.
import { bold, cyan, dim, formatBytes, pad, statusColor } from './style.mjs';

const COLUMNS = [
  ['time', 12],
  ['method', 6],
  ['status', 6, 'right'],
  ['latency', 8, 'right'],
  ['size', 8, 'right'],
  ['uri', 44],
  ['source', 8],
];

/** The table header. */
export function tableHeader() {
  return dim(COLUMNS.map(([name, width, align]) => pad(name, width, align)).join('  ').trimEnd());
}

/** One entry as a table line: time, method, status, latency, response size, uri, source. */
export function tableLine(entry) {
  const time = new Date(entry.started_at).toISOString().slice(11, 23);
  const status = entry.response.status;
  const uri = entry.request.uri.length > 44 ? `${entry.request.uri.slice(0, 43)}…` : entry.request.uri;
  const cells = [
    time,
    bold(entry.request.method),
    statusColor(status)(status),
    `${Math.round(entry.latencies.request)} ms`,
    formatBytes(entry.response.size),
    uri,
    entry.source === 'kong' ? cyan(entry.source) : entry.source,
  ];
  return cells.map((cell, i) => pad(cell, COLUMNS[i][1], COLUMNS[i][2])).join('  ').trimEnd();
}

/** An entry as indented JSON, keys dimmed so the values stand out. */
export function prettyEntry(entry, indent = '  ') {
  const json = JSON.stringify(entry, null, 2);
  return json
    .split('\n')
    .map((line) => indent + line.replace(/^(\s*)("[^"]+":)/, (_m, space, key) => space + dim(key)))
    .join('\n');
}
