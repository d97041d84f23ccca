#!/usr/bin/env node
// npm run audit:prod - `npm audit --omit=dev` for the packages kafka-log users install. Fails on any advisory
// not explained in README.md (section "Supply chain", which names each allowed advisory id). When the
// registry in use offers no audit endpoint, says so plainly and exits 0: there is nothing to check against.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const run = spawnSync('npm', ['audit', '--omit=dev', '--json'], { encoding: 'utf8' });
let report;
try {
  report = JSON.parse(run.stdout);
} catch {
  report = undefined;
}
if (report === undefined || report.vulnerabilities === undefined) {
  const said = report?.error?.summary || report?.message || run.stderr.trim().split('\n')[0] || 'no answer';
  const reason = said.replace(/\s*-?\s*(POST|GET)?\s*https?:\/\/\S+/g, '');
  console.log(`npm audit: the registry's audit endpoint is not available (${reason}); no advisories could be checked.`);
  process.exit(0);
}
const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const unexplained = [];
for (const [name, vulnerability] of Object.entries(report.vulnerabilities ?? {})) {
  for (const via of vulnerability.via) {
    if (typeof via !== 'object') continue;
    const id = String(via.source ?? via.url ?? via.title);
    if (!readme.includes(id)) unexplained.push(`${name}: ${via.title} (${via.severity}, ${via.url ?? id})`);
  }
}
const total = report.metadata?.vulnerabilities?.total ?? 0;
console.log(`npm audit --omit=dev: ${total} advisories, ${unexplained.length} not explained in README.md`);
for (const line of unexplained) console.log(`  ${line}`);
process.exit(unexplained.length === 0 ? 0 : 1);
