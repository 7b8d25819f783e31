import { Client } from '@elastic/elasticsearch';
import type { ClientHandle } from './health.js';
import { withTimeout, DEFAULT_HEALTH_TIMEOUT_MS } from './health.js';

export interface ElasticOptions {
  url: string;
  requestTimeoutMs?: number;
}

export function createElastic(opts: ElasticOptions): ClientHandle<Client> {
  const client = new Client({
    node: opts.url,
    requestTimeout: opts.requestTimeoutMs ?? 30_000,
    maxRetries: 2,
  });
  return {
    name: 'elasticsearch',
    client,
    health: () =>
      withTimeout('elasticsearch', DEFAULT_HEALTH_TIMEOUT_MS, async () => {
        const h = await client.cluster.health();
        if (h.status === 'red') throw new Error('elasticsearch: cluster status red');
      }),
    close: () => client.close(),
  };
}
