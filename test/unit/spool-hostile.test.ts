// A spool that fails under the publisher cannot take the host down: in a child process (Node's default
// unhandled-rejection mode, no process.exit), Kafka unreachable, the spool directory is swapped for a file halfway
// through (every later write fails), and `publisher.dropped_records` and `publisher.drop` listeners throw and
// reject. The process must end by itself with exit code 0, the stats must balance, the failed writes must be
// counted `spool_failed`, and stderr must hold a few rate-limited lines, not a flood.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { PublisherStats } from '../../src/publisher/stats.js';
import { bundleChild, sourcePath } from '../integration/child-support.js';
import { runNode } from '../integration/cli-support.js';

const root = mkdtempSync(path.join(tmpdir(), 'kafka-log-spool-hostile-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('a failing spool and hostile listeners, in a child process', () => {
  it('the process exits by itself (code 0), the stats balance, the failures are counted and heard, not flooded', async () => {
    const directory = path.join(root, 'spool');
    const script = bundleChild(
      'spool-hostile',
      `import { renameSync, writeFileSync } from 'node:fs';
       import { KafkaLogPublisher } from ${sourcePath('src/publisher/publisher.ts')};
       import { entry } from ${sourcePath('test/unit/publisher-support.ts')};
       const publisher = new KafkaLogPublisher({
         brokers: ['127.0.0.1:9'],
         topic: 'hostile',
         spool: { directory: ${JSON.stringify(directory)}, maxFileBytes: 4096 },
         maxEntries: 5,
         flushTimeout: 0,
         maxCoalescingDelay: 0,
         initialRetryDelay: 5,
         maxRetryDelay: 20,
         maxRetryTime: 100,
         timeout: 200,
       });
       publisher.on('publisher.dropped_records', () => { throw new Error('listener throws'); });
       publisher.on('publisher.dropped_records', async () => { throw new Error('listener rejects'); });
       publisher.on('publisher.drop', () => { throw new Error('drop listener throws'); });
       const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
       (async () => {
         for (let i = 0; i < 300; i++) {
           publisher.publish(entry(i));
           if (i === 150) {
             // The disk goes away once the spool holds entries (bounded wait: the retry time runs out first).
             for (let waited = 0; publisher.stats().spooled < 100 && waited < 5000; waited += 10) await sleep(10);
             renameSync(${JSON.stringify(directory)}, ${JSON.stringify(`${directory}-aside`)});
             writeFileSync(${JSON.stringify(directory)}, 'the disk is gone');
           }
           if (i % 10 === 0) await sleep(5);
         }
         await publisher.close({ timeoutMs: 2000 });
         process.stdout.write(JSON.stringify(publisher.stats()) + '\\n');
       })();`,
    );
    const { code, stdout, stderr } = await runNode([script], { timeoutMs: 20_000 });
    console.log(`spool-hostile stderr:\n${stderr}`);

    expect(code).toBe(0);
    expect(stderr).not.toMatch(/Unhandled|unhandled|triggerUncaughtException/);
    const stats = JSON.parse(stdout) as PublisherStats;
    expect(stats.accepted).toBe(300);
    expect(stats.accepted).toBe(stats.sent + stats.dropped.total + stats.spooled + stats.buffered + stats.inFlight);
    expect(stats.buffered + stats.inFlight).toBe(0);
    expect(stats.spooled).toBeGreaterThan(50);
    expect(stats.dropped.byReason.spool_failed).toBeGreaterThan(50);
    expect(stderr.split('\n').filter(Boolean).length).toBeLessThan(20);
    expect(stderr).toMatch(/dropped \(spool_failed\): writing to the spool at .* failed/);
    expect(stderr).toMatch(/"publisher.dropped_records" listener threw/);
  }, 30_000);
});
