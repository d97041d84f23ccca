/**
 * The delivery thread's entry point (built as `dist/transport-worker.js`): serves the transport the request
 * thread asked for over `parentPort`.
 *
 * @module
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { WorkerData } from './worker-protocol.js';
import { serveTransport } from './worker-server.js';

if (parentPort !== null) serveTransport(parentPort, workerData as WorkerData);
