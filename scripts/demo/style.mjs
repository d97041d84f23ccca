// Terminal styling for the demo: colours only on a terminal, and never when NO_COLOR is set.
const enabled = process.stdout.isTTY === true && !process.env.NO_COLOR && process.env.TERM !== 'dumb';

const wrap = (open, close) => (text) => (enabled ? `\u001b[${open}m${text}\u001b[${close}m` : String(text));

export const bold = wrap(1, 22);
export const dim = wrap(2, 22);
export const red = wrap(31, 39);
export const green = wrap(32, 39);
export const yellow = wrap(33, 39);
export const cyan = wrap(36, 39);

/** Colour of an HTTP status: 2xx green, 3xx cyan, 4xx yellow, 5xx red. */
export function statusColor(status) {
  if (status >= 500) return red;
  if (status >= 400) return yellow;
  if (status >= 300) return cyan;
  return green;
}

/** A byte count for people: 512 B, 31.9 kB. */
export function formatBytes(bytes) {
  return bytes < 1000 ? `${bytes} B` : `${(bytes / 1000).toFixed(1)} kB`;
}

/** Seconds since `t0` (a `Date.now()`), one decimal. */
export function since(t0) {
  return `${((Date.now() - t0) / 1000).toFixed(1)} s`;
}

/** Pads text that may contain colour codes to a visible width. */
export function pad(text, width, align = 'left') {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: strips ANSI colour codes to measure the visible width
  const visible = String(text).replace(/\u001b\[\d+m/g, '').length;
  const fill = ' '.repeat(Math.max(0, width - visible));
  return align === 'right' ? fill + text : text + fill;
}
