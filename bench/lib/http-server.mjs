// The server side of bench:http (one child process per variant): the same Express hello-world app, logged one
// of several ways. It counts the requests its route answered and, when the driver asks, reports from inside the
// process what the last window cost: CPU time of the whole process (process.cpuUsage: user + system, every
// thread) and the event loop's busy time (performance.eventLoopUtilization), and on Linux the main thread's own
// CPU time (/proc: the event loop's busy time also counts time the thread waited for a core).
//
// Started as `node bench/lib/http-server.mjs '<json config>'` with an IPC channel; messages:
//   -> { type: 'mark' }   starts a window            <- { type: 'marked' }
//   -> { type: 'read' }   ends it                    <- { type: 'window', requests, cpuMicros, loopMicros,
//                                                                        mainMicros, produceRequests, records }
//   -> { type: 'stop' }   closes (publisher closed)  <- { type: 'stopped', requests, stats }
//   -> { type: 'profile-start', intervalMicros }      <- { type: 'profiling' }   (V8's sampling profiler, in process)
//   -> { type: 'profile-stop', file }                 <- { type: 'profiled' }    (the .cpuprofile written to `file`)
//   -> { type: 'feed', requests, rate }               <- { type: 'fed', requests } (requests fed in process, below)
// On start it sends { type: 'ready', port }.

import fs from 'node:fs';
import http from 'node:http';
import { Session } from 'node:inspector/promises';
import { performance } from 'node:perf_hooks';
import { feedRequests } from './in-memory-load.mjs';

/**
 * The variants: how the app is logged. `publisher` holds the KafkaLogPublisher options the variant adds; `app`
 * says whether kafka-log is installed as Express middleware or as the node:http wrapper around the app.
 */
export const VARIANTS = {
  nolog: { label: 'no logging' },
  // Informative, the bench's own control: the same no-logging app in a process of its own. Its overhead over the
  // baseline process is what the harness alone makes of two identical servers (0 within noise when fair).
  'nolog-control': { label: 'no logging, a second process (control)' },
  'express-kafkajs': { label: 'kafka-log/express, kafkajs', app: 'express', publisher: { transport: 'kafkajs' } },
  'wrapper-kafkajs': { label: 'withKafkaLog(app), kafkajs', app: 'wrapper', publisher: { transport: 'kafkajs' } },
  'express-platformatic': { label: 'kafka-log/express, @platformatic/kafka', app: 'express', publisher: { transport: 'platformatic' } },
  'wrapper-platformatic': { label: 'withKafkaLog(app), @platformatic/kafka', app: 'wrapper', publisher: { transport: 'platformatic' } },
  'express-kafkajs-worker': { label: 'kafka-log/express, kafkajs in a worker', app: 'express', publisher: { transport: 'kafkajs' }, worker: true },
  'express-platformatic-worker': { label: 'kafka-log/express, @platformatic/kafka in a worker', app: 'express', publisher: { transport: 'platformatic' }, worker: true },
  'pino-http': { label: 'pino-http to a file (async)' },
  // Informative: one more Express middleware that does nothing (what an extra layer costs the app).
  'express-empty': { label: 'an empty Express middleware' },
  // Informative: the entry built and serialized, nothing sent (the adapter's and entry's cost alone).
  'express-nosend': { label: 'kafka-log/express, not sent', app: 'express', nosend: true },
  'wrapper-nosend': { label: 'withKafkaLog(app), not sent', app: 'wrapper', nosend: true },
};

if (process.argv[2] !== undefined && process.send) await runServer(JSON.parse(process.argv[2]));

async function runServer({ variant, brokers, topic, logFile }) {
  const spec = VARIANTS[variant];
  if (spec === undefined) throw new Error(`unknown variant ${variant}`);
  const { default: express } = await import('express');
  const app = express();
  let publisher;
  let pinoLogger;
  let produceRequests = 0;
  let records = 0;
  let listener = app;

  if (spec.app !== undefined) {
    let sink;
    if (spec.nosend) {
      const { serializeLogEntry } = await import('kafka-log');
      sink = { publish: (entry) => serializeLogEntry(entry) };
    } else {
      const { KafkaLogPublisher, workerTransport } = await import('kafka-log');
      const options = spec.worker ? { transport: workerTransport(spec.publisher.transport) } : spec.publisher;
      publisher = new KafkaLogPublisher({ brokers, topic, logLevel: 'warn', ...options });
      await publisher.connect();
      publisher.on('publisher.delivered', ({ messages }) => {
        produceRequests += 1;
        records += messages;
      });
      sink = publisher;
    }
    if (spec.app === 'express') {
      const { kafkaLog } = await import('kafka-log/express');
      app.use(kafkaLog({ sink }));
    } else {
      const { withKafkaLog } = await import('kafka-log/http');
      listener = withKafkaLog(app, { sink });
    }
  } else if (variant === 'express-empty') {
    app.use((_req, _res, next) => next());
  } else if (variant === 'pino-http') {
    const { default: pino } = await import('pino');
    const { default: pinoHttp } = await import('pino-http');
    // pino's documented fast path: asynchronous writes to a file descriptor, buffered to 4 KiB.
    pinoLogger = pino(pino.destination({ dest: logFile, sync: false, minLength: 4096 }));
    app.use(pinoHttp({ logger: pinoLogger }));
  }

  let requests = 0;
  app.get('/users/:id', (req, res) => {
    requests++;
    res.json({ id: req.params.id, name: 'Ada Lovelace', roles: ['admin', 'dev'], fields: req.query.fields ?? null });
  });

  const server = http.createServer(listener);
  server.keepAliveTimeout = 60_000;
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  process.send({ type: 'ready', port: server.address().port });

  // The driver gone (a failed run) leaves nobody to stop this server: it would stay pinned to the measured CPU.
  process.on('disconnect', () => process.exit(1));

  let mark;
  let session;
  process.on('message', async (message) => {
    if (message?.type === 'profile-start') {
      session = new Session();
      session.connect();
      await session.post('Profiler.enable');
      await session.post('Profiler.setSamplingInterval', { interval: message.intervalMicros });
      await session.post('Profiler.start');
      process.send({ type: 'profiling' });
    } else if (message?.type === 'profile-stop') {
      const { profile } = await session.post('Profiler.stop');
      session.disconnect();
      fs.writeFileSync(message.file, JSON.stringify(profile));
      process.send({ type: 'profiled' });
    } else if (message?.type === 'feed') {
      const fed = await feedRequests(server, { requests: message.requests, rate: message.rate });
      process.send({ type: 'fed', requests: fed });
    } else if (message?.type === 'mark') {
      mark = { requests, produceRequests, records, cpu: process.cpuUsage(), main: mainThreadCpuMicros(), loop: performance.eventLoopUtilization() };
      process.send({ type: 'marked' });
    } else if (message?.type === 'read') {
      const cpu = process.cpuUsage(mark.cpu);
      const loop = performance.eventLoopUtilization(mark.loop);
      process.send({
        type: 'window',
        requests: requests - mark.requests,
        cpuMicros: cpu.user + cpu.system,
        loopMicros: loop.active * 1000,
        mainMicros: mainThreadCpuMicros() - mark.main,
        produceRequests: produceRequests - mark.produceRequests,
        records: records - mark.records,
      });
    } else if (message?.type === 'stop') {
      server.closeAllConnections();
      server.close();
      let stats;
      if (publisher) {
        await publisher.close({ timeoutMs: 30_000 });
        stats = publisher.stats();
      }
      if (pinoLogger) pinoLogger.flush();
      process.send({ type: 'stopped', requests, stats });
      setTimeout(() => process.exit(0), 50);
    }
  });
}

/** CPU time of this process's main thread so far, µs (Linux: /proc/self/task/<pid>/stat; NaN elsewhere). */
function mainThreadCpuMicros() {
  try {
    const stat = fs.readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime: fields 14 and 15 of the line, in clock ticks (100 a second on Linux).
    return ((Number(fields[11]) + Number(fields[12])) * 1e6) / 100;
  } catch {
    return Number.NaN;
  }
}
