// Vitest global setup of the Node-independent integration project: the Python interop venv (Confluent's own
// client, scripts/interop/setup.sh), prepared once before any file runs instead of by each file while its tests
// wait (a cold venv takes minutes on a busy machine). Idempotent: a ready venv costs about a second.
import { setUpPython } from '../support/test-registry-kafka.js';

export default async function setup(): Promise<void> {
  const ms = await setUpPython();
  process.stdout.write(`scripts/interop/setup.sh took ${ms} ms\n`);
}
