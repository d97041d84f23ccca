// Shared benchmark helpers: interleaved rounds so that machine noise hits every variant alike, medians of
// per-round ratios against a baseline measured in the same round.

/** Runs `fn` repeatedly for about `ms` milliseconds; returns operations per second. */
export function opsPerSecond(fn, ms) {
  let ops = 0;
  let sink;
  const start = performance.now();
  const end = start + ms;
  let now = start;
  while (now < end) {
    for (let i = 0; i < 100; i++) sink = fn();
    ops += 100;
    now = performance.now();
  }
  globalThis.__benchSink = sink;
  return (ops * 1000) / (now - start);
}

/** The median of a list of numbers. */
export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** The `q` quantile (0..1) of a list of numbers, interpolated between neighbours. */
export function quantile(values, q) {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (sorted.length - 1) * q;
  const low = Math.floor(at);
  const high = Math.ceil(at);
  return sorted[low] + (sorted[high] - sorted[low]) * (at - low);
}

/** Formats rows of objects as an aligned text table. */
export function table(rows) {
  const columns = Object.keys(rows[0]);
  const widths = columns.map((column) => Math.max(column.length, ...rows.map((row) => String(row[column]).length)));
  const line = (cells) => cells.map((cell, i) => String(cell).padStart(widths[i])).join('  ');
  return [line(columns), line(widths.map((w) => '-'.repeat(w))), ...rows.map((row) => line(columns.map((c) => row[c])))].join('\n');
}

/**
 * The order of one round: a permutation stepping through `names` by a stride coprime with their number, a
 * different stride each round, so a variant's predecessor changes from round to round.
 */
export function rotatedOrder(names, round) {
  const n = names.length;
  const strides = [];
  for (let stride = 1; stride < Math.max(2, n); stride++) if (gcd(stride, n) === 1) strides.push(stride);
  const stride = strides[round % strides.length];
  return names.map((_, i) => names[(round + i * stride) % n]);
}

function gcd(a, b) {
  return b === 0 ? a : gcd(b, a % b);
}
