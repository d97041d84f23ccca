// The built testing kit loads no Kafka client, and the main entry does not load the testing kit.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { expect, it } from 'vitest';

const root = join(__dirname, '..', '..');

function loadedModules(script: string): string[] {
  const out = execFileSync(process.execPath, ['-e', `${script};console.log(JSON.stringify(Object.keys(require.cache)))`], {
    cwd: root,
    encoding: 'utf8',
  });
  return JSON.parse(out) as string[];
}

it('require("kafka-log/testing") loads neither kafkajs nor the registry client', () => {
  const modules = loadedModules("require('kafka-log/testing')");
  expect(modules.some((m) => m.includes(`${join('node_modules', 'kafkajs')}`))).toBe(false);
  expect(modules.some((m) => m.includes('confluent-schema-registry'))).toBe(false);
});

it('require("kafka-log") does not load the testing kit', () => {
  const modules = loadedModules("require('kafka-log')");
  expect(modules.some((m) => m.endsWith(join('dist', 'testing.js')))).toBe(false);
});
