// The demo's Express app: wired like examples/express/server.mjs (kafka-log first, its error handler after the
// routes), with a route for every kind of exchange the demo sends. It imports kafka-log by its package name,
// exactly as an application would.
import express from 'express';
import { kafkaLog } from 'kafka-log/express';

/** A small binary file to download: 24 kB of bytes that are not valid UTF-8 (so kafka-log must count, not decode). */
const REPORT_PDF = Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.alloc(24_000, 0xff)]);

/**
 * @param {import('kafka-log').KafkaLogPublisher} publisher
 * @returns {import('express').Express}
 */
export function createDemoApp(publisher) {
  const log = kafkaLog({
    sink: publisher,
    logRequestBody: true, // bodies in `request.body`, parsed arguments in `request.body_args` (Kong's log_body)
    redactBodyFields: ['password'], // beyond Kong: secrets never reach the topic
    service: () => ({ name: 'demo-shop' }),
    consumer: (req) => (req.get('x-user') ? { username: req.get('x-user') } : undefined),
  });

  const app = express();
  app.use(log); // first: it must see every request, including those a later middleware answers
  app.use(express.json());
  app.use(express.urlencoded({ extended: false }));

  app.get('/users/:id', (req, res) => res.json({ id: req.params.id, name: 'Ada Lovelace' }));
  app.post('/users', (req, res) => res.status(201).json({ id: 'u-1001', name: req.body.name }));
  app.post('/signup', (req, res) => res.type('html').send(`<p>Welcome, ${req.body.name}!</p>`));
  app.post('/avatars', (req, res) => {
    // No multipart parser here: kafka-log describes the upload on its own (fields, file name, type, size).
    let bytes = 0;
    req.on('data', (chunk) => {
      bytes += chunk.length;
    });
    req.on('end', () => res.status(201).json({ stored: true, bytes }));
  });
  app.get('/files/report.pdf', (_req, res) => res.type('application/pdf').send(REPORT_PDF));
  app.get('/reports/slow', async (_req, res) => {
    await new Promise((resolve) => setTimeout(resolve, 300));
    res.json({ rows: 3 });
  });
  app.get('/checkout', () => {
    throw new Error('payment service unavailable');
  });

  app.use(log.errorHandler); // after the routes: errors and 404s are logged with source "kong"
  app.use((error, _req, res, _next) => res.status(500).json({ error: error.message }));
  return app;
}
