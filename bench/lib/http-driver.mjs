// The driver's side of bench:http and bench:http:profile: starts the server processes of
// bench/lib/http-server.mjs, talks to them, and prepares the topic they publish to.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const SERVER = fileURLToPath(new URL('./http-server.mjs', import.meta.url));

/** Starts one variant's server process; resolves with `{ child, port }` once it listens. */
export function startServer(config) {
  return new Promise((resolve, reject) => {
    const child = fork(SERVER, [JSON.stringify(config)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`${config.variant} server exited with ${code}`)));
    child.once('message', (message) => resolve({ child, port: message.port }));
  });
}

/** Sends `message` to a server; resolves with its first reply of type `answer`. */
export function ask({ child }, message, answer) {
  return new Promise((resolve) => {
    const onMessage = (reply) => {
      if (reply?.type !== answer) return;
      child.off('message', onMessage);
      resolve(reply);
    };
    child.on('message', onMessage);
    child.send(message);
  });
}

/** Closes a server (its publisher delivering what it holds); resolves with its final counts. */
export function stopServer(server) {
  server.child.removeAllListeners('exit');
  return ask(server, { type: 'stop' }, 'stopped');
}

/** A fresh one-partition topic. */
export async function createTopic(brokers, name) {
  const { default: kafkajs } = await import('kafkajs');
  const admin = new kafkajs.Kafka({ brokers, logLevel: kafkajs.logLevel.NOTHING }).admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: name, numPartitions: 1 }], waitForLeaders: true });
  await admin.disconnect();
}
