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
import { compileCustomFields } from 'kafka-log';
import { withKafkaLog } from 'kafka-log/http';
import { publisherFromEnv, serveHandlers } from './children/app-support.mjs';

const env = process.env;
const configs = JSON.parse(env.CONFIGS ?? '{}');

const { publisher, announced } = publisherFromEnv();

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

serveHandlers(
  handlers,
  () => ({
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
  publisher,
  (_req, res) => {
    res.on('close', () => {
      closedAt = performance.now();
    });
  },
);
