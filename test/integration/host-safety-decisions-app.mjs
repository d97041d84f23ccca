// A node:http app logging with kafka-log/http whose decision options (filter, sampleRate, body conditions, the
// request id generator) and sink are hostile: they throw values that cannot be printed, return rejected promises,
// return promises where a boolean, number or string is due. Run by host-safety-decisions.test.ts as a child
// process with Node's default unhandled-rejection mode (no flags). Three adapters:
//   /open/...    every function fails: each entry is published all the same (fail open), without bodies
//   /skip/...    filter says no; the sink counts the skip, then returns a rejected promise
//   /async/...   sampleRate and filter are async functions (promises, not answers): each entry is kept
//
// Environment: KAFKA_BROKERS, KAFKA_TOPIC. Needs the built package (`npm run build`).
// stdout, JSON lines: {"event":"listening","port":N} once; GET /__report answers with the publisher's stats and
// the publisher.reported events (not logged).
import { requestIdOf, withKafkaLog } from 'kafka-log/http';
import { publisherFromEnv, serveHandlers } from './children/app-support.mjs';


const { publisher, announced } = publisherFromEnv();

/** Thrown values that resist being printed. */
const unprintable = {
  get message() {
    throw new Error('message getter');
  },
  toString() {
    throw new Error('toString');
  },
};
const trap = new Proxy(
  {},
  {
    getPrototypeOf() {
      throw new Error('prototype trap');
    },
    get() {
      throw new Error('get trap');
    },
  },
);

const answer = (req, res) => {
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ id: requestIdOf(req) ?? null }));
};

const sink = {
  publish: (entry, meta) => publisher.publish(entry, meta),
  reportError: (error) => publisher.reportError(error),
  skipped: (reason, count) => publisher.skipped(reason, count),
};

const handlers = {
  open: withKafkaLog(answer, {
    sink,
    logRequestBody: () => Promise.reject(unprintable),
    logResponseBody: () => {
      throw trap;
    },
    filter: async () => {
      throw unprintable;
    },
    sampleRate: () => {
      throw trap;
    },
    generateRequestId: async () => 'a promise, not an id',
    echoRequestIdHeader: 'X-Request-Id',
  }),
  skip: withKafkaLog(answer, {
    sink: {
      ...sink,
      skipped: (reason, count) => {
        publisher.skipped(reason, count);
        return Promise.reject(unprintable);
      },
    },
    filter: () => false,
  }),
  async: withKafkaLog(answer, {
    sink,
    filter: async () => false,
    sampleRate: async () => 0,
  }),
};

serveHandlers(handlers, () => ({ stats: publisher.stats(), announced }), publisher);
