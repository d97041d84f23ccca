// A transport factory that wraps one of kafka-log's real transports and hands every error to `seen` the moment it
// leaves kafka-log's code: what the transport rejects with (before the publisher handles it) and what the
// OAUTHBEARER token provider rejects with (before the Kafka client wraps it). Tests read `stack` there, as early
// as any code outside kafka-log could, to prove errors are built without secrets rather than cleaned later.
import { loadTransportFactory, type TransportName } from '../../src/transport/select.js';
import type { TransportFactory } from '../../src/transport/transport.js';

export type ErrorSpy = (where: 'transport connect' | 'transport produce' | 'token provider', error: unknown) => void;

export function spyingTransport(name: TransportName, seen: ErrorSpy): TransportFactory {
  const rethrow = (where: Parameters<ErrorSpy>[0]) => (error: unknown) => {
    seen(where, error);
    throw error;
  };
  return async (config, hooks) => {
    const provider = config.sasl?.oauthBearerToken;
    const sasl = provider && config.sasl ? { ...config.sasl, oauthBearerToken: () => provider().catch(rethrow('token provider')) } : config.sasl;
    const real = await (await loadTransportFactory(name))({ ...config, sasl }, hooks);
    return {
      connect: () => real.connect().catch(rethrow('transport connect')),
      produce: (request) => real.produce(request).catch(rethrow('transport produce')),
      close: () => real.close(),
    };
  };
}
