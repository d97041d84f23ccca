/**
 * Recognises Kong `custom_fields_by_lua` values still written in Lua, and says what to write instead: kafka-log
 * evaluates each value as a JavaScript expression over `entry` (the log entry) and `context`. Pure.
 *
 * @module
 */

/** Signs of Lua (looked for outside string literals), each with what it looks like in a message. */
const LUA_SIGNS: ReadonlyArray<readonly [RegExp, string]> = [
  [/^\s*return\b/, 'a leading `return`'],
  [/^\s*local\s/, '`local`'],
  // `..` between operands; JavaScript's spread is three dots.
  [/(?:^|[^.])\.\.(?!\.)/, '`..` concatenation'],
  // Kong's PDK and OpenResty's globals, not a property of something else (`entry.kong` is fine).
  [/(?<![\w$.])(?:kong|ngx)\s*\.\s*[A-Za-z_]/, '`kong.`/`ngx.` calls'],
  [/(?<![\w$.])nil\b/, '`nil`'],
  [/~=/, '`~=`'],
  [/\bthen\b[\s\S]*\bend\b/, '`then ... end`'],
];

/** `value` with the contents of its string literals blanked, so signs inside quotes do not count. */
function withoutStrings(value: string): string {
  return value.replace(/'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|`(?:[^`\\]|\\.)*`/g, '""');
}

/** Whether `value` reads Kong's PDK or OpenResty (`kong.`, `ngx.`): it compiles, and fails on every request. */
export function readsKongPdk(value: string): boolean {
  return /(?<![\w$.])(?:kong|ngx)\s*\.\s*[A-Za-z_]/.test(withoutStrings(value));
}

/** Kong PDK reads and what they are in the entry. */
const PDK_READS: ReadonlyArray<readonly [RegExp, string]> = [
  [/\bkong\.request\.get_header\s*\(\s*(["'][^"']*["'])\s*\)/g, 'entry.request.headers[$1]'],
  [/\bkong\.request\.get_query_arg\s*\(\s*(["'][^"']*["'])\s*\)/g, 'entry.request.querystring[$1]'],
  [/\bkong\.request\.get_method\s*\(\s*\)/g, 'entry.request.method'],
  [/\bkong\.request\.get_path\s*\(\s*\)/g, 'entry.request.uri'],
  [/\bkong\.response\.get_status\s*\(\s*\)/g, 'entry.response.status'],
  [/\bkong\.response\.get_header\s*\(\s*(["'][^"']*["'])\s*\)/g, 'entry.response.headers[$1]'],
  [/\bkong\.client\.get_ip\s*\(\s*\)/g, 'entry.client_ip'],
];

/** What in `value` looks like Lua (empty: nothing does). */
export function luaSigns(value: string): string[] {
  const code = withoutStrings(value);
  return LUA_SIGNS.filter(([pattern]) => pattern.test(code)).map(([, sign]) => sign);
}

/**
 * A mechanical JavaScript rewrite of a one-line Lua value (`return` dropped, `..` → `+`, `nil` → `undefined`,
 * `~=` → `!==`, common Kong PDK reads → the entry's fields), or `undefined` when it still reads like Lua.
 */
export function javascriptRewrite(value: string): string | undefined {
  let rewritten = value
    .trim()
    .replace(/^return\s+/, '')
    .replace(/;\s*$/, '')
    .replace(/(^|[^.])\.\.(?!\.)/g, '$1+')
    .replace(/\bnil\b/g, 'undefined')
    .replace(/~=/g, '!==');
  for (const [pattern, replacement] of PDK_READS) rewritten = rewritten.replace(pattern, replacement);
  return luaSigns(rewritten).length === 0 && rewritten !== '' ? rewritten : undefined;
}

/** The message for a value that looks like Lua: what kafka-log takes instead, with a rewrite when one is plain. */
export function luaHint(signs: readonly string[], rewrite: string | undefined): string {
  const lua = `this looks like Lua (${signs.join(', ')}), which kafka-log does not run`;
  if (rewrite !== undefined) return `${lua}: values are JavaScript expressions; write ${JSON.stringify(rewrite)}`;
  return `${lua}: rewrite it as a JavaScript expression over \`entry\` (the log entry, e.g. entry.request.headers['x-tenant']) and \`context\``;
}
