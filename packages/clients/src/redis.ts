import { Redis } from 'ioredis';
import type { ClientHandle } from './health.js';
import { withTimeout, DEFAULT_HEALTH_TIMEOUT_MS } from './health.js';

export interface RedisOptions {
  url: string;
  /** Namespaces keys so tests (and tenants) never collide. */
  keyPrefix?: string;
  onError?: (err: Error) => void;
}

/**
 * Commands fail fast while Redis is away (no offline queue, one try) so callers can degrade:
 * rate limits fail open, session lookups fall back to PostgreSQL. The client keeps
 * reconnecting in the background and recovers by itself.
 */
export function createRedis(opts: RedisOptions): ClientHandle<Redis> {
  const client = new Redis(opts.url, {
    keyPrefix: opts.keyPrefix ?? '',
    lazyConnect: false,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    commandTimeout: 1000,
    retryStrategy: (times) => Math.min(times * 200, 2000),
  });
  client.on('error', (err: Error) => opts.onError?.(err));
  return {
    name: 'redis',
    client,
    health: () =>
      withTimeout('redis', DEFAULT_HEALTH_TIMEOUT_MS, async () => {
        if (client.status !== 'ready') await waitReady(client);
        const pong = await client.ping();
        if (pong !== 'PONG') throw new Error(`redis: unexpected PING answer ${pong}`);
      }),
    close: async () => {
      client.disconnect(false);
    },
  };
}

function waitReady(client: Redis): Promise<void> {
  return new Promise((resolve, reject) => {
    const onReady = () => {
      client.off('error', onError);
      resolve();
    };
    const onError = (err: Error) => {
      client.off('ready', onReady);
      reject(err);
    };
    client.once('ready', onReady);
    client.once('error', onError);
  });
}
