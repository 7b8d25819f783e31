import { connect, type NatsConnection, type JetStreamClient, type JetStreamManager } from 'nats';
import type { ClientHandle } from './health.js';
import { withTimeout, DEFAULT_HEALTH_TIMEOUT_MS } from './health.js';

export interface NatsOptions {
  url: string;
  name: string;
  /** Connection status changes (disconnect, reconnect, errors) for the caller to log. */
  onStatus?: (type: string, data: unknown) => void;
  /**
   * Skip the stack captured for every request (nats.js asyncTraces): on a hot request path it
   * costs more than the request itself; errors still carry their own stack.
   */
  noAsyncTraces?: boolean;
}

export interface NatsClients {
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
}

/**
 * Connects with infinite reconnects: a NATS restart must not end the process. The health check
 * asks JetStream for its account info, which proves both the connection and JetStream.
 */
export async function connectNats(opts: NatsOptions): Promise<ClientHandle<NatsClients>> {
  const nc = await connect({
    servers: opts.url,
    name: opts.name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
    timeout: 5000,
    pingInterval: 10_000,
    ...(opts.noAsyncTraces ? { noAsyncTraces: true } : {}),
  });
  if (opts.onStatus) {
    const onStatus = opts.onStatus;
    void (async () => {
      for await (const s of nc.status()) onStatus(s.type, s.data);
    })();
  }
  const jsm = await nc.jetstreamManager();
  const js = nc.jetstream();
  return {
    name: 'nats',
    client: { nc, js, jsm },
    health: () =>
      withTimeout('nats', DEFAULT_HEALTH_TIMEOUT_MS, async () => {
        await nc.flush();
        await jsm.getAccountInfo();
      }),
    close: async () => {
      if (!nc.isClosed()) await nc.drain();
    },
  };
}
