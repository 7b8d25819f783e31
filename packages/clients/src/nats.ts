import { connect, type ConnectionOptions, type NatsConnection, type JetStreamClient, type JetStreamManager } from 'nats';
import type { ClientHandle } from './health.js';
import { withTimeout, DEFAULT_HEALTH_TIMEOUT_MS } from './health.js';

export interface NatsOptions {
  /**
   * `nats://user:password@host:port` (or `nats://token@host:port`; `tls://` for TLS). nats.js 2.x
   * ignores credentials in a server URL, so they are taken out here and passed as options.
   */
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

/** The part of nats.js's connection options that `url` decides. */
export type NatsUrlOptions = Pick<ConnectionOptions, 'servers' | 'user' | 'pass' | 'token' | 'inboxPrefix'>;

// A user name that can stand as one subject token (no dot, wildcard or space).
const INBOX_TOKEN = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * Splits a NATS URL into the server address and its credentials. A user also gets its own reply
 * inboxes, `_INBOX.<user>.…`: the server can then let each user subscribe to its own inboxes
 * only (infra/nats/nats.conf), so no service reads the replies, JetStream answers and pulled
 * messages included, that travel to another. The password never appears in `servers`, which
 * nats.js reports in its status events.
 */
export function natsUrlOptions(url: string): NatsUrlOptions {
  // The service's config schema already checked the URL; the message never echoes it (it holds a password).
  const u = new URL(url);
  if (u.protocol !== 'nats:' && u.protocol !== 'tls:') throw new TypeError(`NATS URL must start with nats:// or tls://, not ${u.protocol}//`);
  const servers = `${u.protocol}//${u.host}`;
  const user = decodeURIComponent(u.username);
  const pass = decodeURIComponent(u.password);
  if (user === '') return { servers };
  // As in the other NATS clients: a user without a password is a token.
  if (pass === '') return { servers, token: user };
  return { servers, user, pass, ...(INBOX_TOKEN.test(user) ? { inboxPrefix: `_INBOX.${user}` } : {}) };
}

/**
 * Connects with infinite reconnects: a NATS restart must not end the process. The health check
 * asks JetStream for its account info, which proves both the connection and JetStream.
 */
export async function connectNats(opts: NatsOptions): Promise<ClientHandle<NatsClients>> {
  const nc = await connect({
    ...natsUrlOptions(opts.url),
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
