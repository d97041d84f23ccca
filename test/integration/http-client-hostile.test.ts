// The token and registry HTTP client against misbehaving servers, in a child process with Node's default
// unhandled-rejection mode and the built package: every call ends with a typed error within its deadline, nothing
// crashes the process, and nothing keeps it alive afterwards (it exits by itself).
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runNode } from './cli-support.js';

const ROOT = join(__dirname, '..', '..');

describe('HTTP client against hostile servers (child process)', () => {
  it('every call ends with a typed error, the process neither crashes nor stays alive', async () => {
    const { code, stdout, stderr } = await runNode([join(ROOT, 'test/fixtures/hostile/http-client-child.cjs'), join(ROOT, 'dist/index.js')], {
      timeoutMs: 60_000,
    });
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    const outcomes = JSON.parse(stdout) as Record<string, string>;
    const REGISTRY = 'KAFKA_LOG_ERR_REGISTRY';
    const TOO_LARGE = 'KAFKA_LOG_ERR_RESPONSE_TOO_LARGE';
    expect(outcomes).toEqual({
      'token reset': `${REGISTRY} retriable`,
      'registry reset': `${REGISTRY} retriable`,
      'token flood': TOO_LARGE,
      'registry flood': TOO_LARGE,
      'token trickle': `${REGISTRY} retriable`,
      'registry trickle': `${REGISTRY} retriable`,
      'token silent': `${REGISTRY} retriable`,
      'registry silent': `${REGISTRY} retriable`,
      'token announced': TOO_LARGE,
      'registry announced': TOO_LARGE,
      'token notJson': REGISTRY,
      'registry notJson': `${REGISTRY} retriable`,
      'token wrongShape': REGISTRY,
      'registry wrongShape': REGISTRY,
      'token hugeError': REGISTRY,
      'registry hugeError': REGISTRY,
      // A good token ("soon" is no lifetime: the default applies), then the silent registry's deadline.
      'token token': `${REGISTRY} retriable`,
      'registry token': REGISTRY,
      'token garbage': `${REGISTRY} retriable`,
      'registry garbage': `${REGISTRY} retriable`,
    });
  });
});
