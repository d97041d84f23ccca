// A node:http app logging with kafka-log/http whose custom fields are hostile expression strings, run by
// host-safety-expressions.test.ts as a child process with Node's default unhandled-rejection mode (no flags).
// Each configuration is its own adapter, reached under /<name>/; every one also has a harmless expression field
// (`good`) and a function field (`fn`), which must keep arriving.
//
// Environment: KAFKA_BROKERS, KAFKA_TOPIC, CONFIGS (JSON: name -> { key: expression }), LIMIT_MS,
// SWITCH_OFF_AFTER. Needs the built package (`npm run build`).
//
// stdout, JSON lines: {"event":"listening","port":N} once; GET /__report answers with the report (not logged):
// per configuration the time each entry took from the end of its response to its hand-over to the publisher,
// the compiled fields' evaluation counts and switch-off state, the publisher.reported events, stats.
import http from 'node:http';
import { KafkaLogPublisher, compileCustomFields } from 'kafka-log';
import { withKafkaLog } from 'kafka-log/http';

const env = process.env;
const configs = JSON.parse(env.CONFIGS ?? '{}');
const out = (object) => process.stdout.write(`${JSON.stringify(object)}\n`);

const publisher = new KafkaLogPublisher({
  brokers: (env.KAFKA_BROKERS ?? '').split(','),
  topic: env.KAFKA_TOPIC ?? '',
  flushTimeout: 100,
  maxCoalescingDelay: 100,
});
const announced = [];
publisher.on('publisher.reported', ({ error }) => announced.push({ field: error.field, message: error.message.slice(0, 300) }));

/** When the response being completed closed: kafka-log's own 'close' listener runs right after ours. */
let closedAt = 0;
const entryMs = Object.fromEntries(Object.keys(configs).map((name) => [name, []]));
const compiled = {};
const handlers = {};
for (const [name, expressions] of Object.entries(configs)) {
  compiled[name] = compileCustomFields(
    { ...expressions, good: 'entry.request.uri', fn: () => 'ok' },
    { expressionTimeoutMs: Number(env.LIMIT_MS), expressionTimeoutsBeforeSwitchOff: Number(env.SWITCH_OFF_AFTER) },
  );
  const sink = {
    publish(entry, meta) {
      entryMs[name].push(performance.now() - closedAt);
      return publisher.publish(entry, meta);
    },
    reportError: (error) => publisher.reportError(error),
  };
  handlers[name] = withKafkaLog((_req, res) => res.end('ok'), { sink, customFields: compiled[name] });
}

const server = http.createServer((req, res) => {
  const name = (req.url ?? '/').split('/')[1] ?? '';
  if (name === '__report') {
    res.setHeader('content-type', 'application/json');
    res.end(
      JSON.stringify({
        entryMs,
        fields: Object.fromEntries(
          Object.entries(compiled).map(([config, fields]) => [
            config,
            Object.fromEntries(fields.fields.map((field) => [field.key, { evaluations: field.evaluations, switchedOff: field.switchedOff }])),
          ]),
        ),
        announced,
        stats: publisher.stats(),
        hostGlobals: { stash: typeof globalThis.stash, polluted: typeof {}.polluted, arrayPush: typeof [].push },
      }),
    );
    return;
  }
  const handler = handlers[name];
  if (handler === undefined) {
    res.statusCode = 404;
    res.end();
    return;
  }
  res.on('close', () => {
    closedAt = performance.now();
  });
  handler(req, res);
});
server.listen(0, '127.0.0.1', () => out({ event: 'listening', port: server.address().port }));

process.on('SIGTERM', () => {
  server.close();
  publisher.close().then(
    () => process.exit(0),
    () => process.exit(0),
  );
});
