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

/**
 * Where the messages live in Elasticsearch (mapping and lifecycle: @parley/migrate elastic.ts):
 * the template, the index pattern it applies to, the first index and the alias every reader and
 * writer uses, so the index behind it can be rolled.
 */
export interface ElasticNames {
  template: string;
  alias: string;
  pattern: string;
  firstIndex: string;
  /** Operator erasures a replay must not undo (one document per room and user, `*` for all). */
  erasures: string;
}

export function elasticNames(prefix: string): ElasticNames {
  return {
    template: `${prefix}-messages-template`,
    alias: `${prefix}-messages`,
    pattern: `${prefix}-messages-*`,
    firstIndex: `${prefix}-messages-000001`,
    erasures: `${prefix}-erasures`,
  };
}

