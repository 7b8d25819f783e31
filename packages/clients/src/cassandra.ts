import cassandra from 'cassandra-driver';
import type { ClientHandle } from './health.js';
import { withTimeout, DEFAULT_HEALTH_TIMEOUT_MS } from './health.js';

export interface CassandraOptions {
  contactPoints: string[];
  localDataCenter: string;
  /** Omit to connect before the keyspace exists (migrations create it). */
  keyspace?: string;
}

export function createCassandra(opts: CassandraOptions): ClientHandle<cassandra.Client> {
  const client = new cassandra.Client({
    contactPoints: opts.contactPoints,
    localDataCenter: opts.localDataCenter,
    ...(opts.keyspace ? { keyspace: opts.keyspace } : {}),
    socketOptions: { connectTimeout: 5000, readTimeout: 12_000 },
    // Reconnect forever: a Cassandra restart must stall the pipeline, not end the process.
    policies: { reconnection: new cassandra.policies.reconnection.ExponentialReconnectionPolicy(200, 5000, false) },
    queryOptions: { prepare: true, consistency: cassandra.types.consistencies.localQuorum },
  });
  return {
    name: 'cassandra',
    client,
    health: () =>
      withTimeout('cassandra', DEFAULT_HEALTH_TIMEOUT_MS * 3, async () => {
        const rs = await client.execute('SELECT release_version FROM system.local');
        if (!rs.first()?.get('release_version')) throw new Error('cassandra: system.local has no release_version');
      }),
    close: () => client.shutdown(),
  };
}
