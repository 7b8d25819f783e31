import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createCassandra } from '../src/index.js';
import { infra, uniqueName, deferrer } from '@parley/test-support';

test('cassandra: write and read in a private keyspace', async (t) => {
  const defer = deferrer(t);
  const ks = uniqueName('t');
  const h = createCassandra({ contactPoints: infra.cassandraContactPoints, localDataCenter: infra.cassandraLocalDc });
  defer(() => h.close());
  await h.health();
  await h.client.execute(`CREATE KEYSPACE ${ks} WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}`);
  defer(() => h.client.execute(`DROP KEYSPACE IF EXISTS ${ks}`));
  await h.client.execute(`CREATE TABLE ${ks}.kv (k text, n bigint, v text, PRIMARY KEY (k, n)) WITH CLUSTERING ORDER BY (n DESC)`);
  for (let n = 1; n <= 3; n++) {
    await h.client.execute(`INSERT INTO ${ks}.kv (k, n, v) VALUES (?, ?, ?)`, ['a', String(n), `v${n}`], { prepare: true });
  }
  // An upsert on the same key rewrites, it does not add: what makes replays harmless.
  await h.client.execute(`INSERT INTO ${ks}.kv (k, n, v) VALUES (?, ?, ?)`, ['a', '2', 'v2'], { prepare: true });
  const rs = await h.client.execute(`SELECT n, v FROM ${ks}.kv WHERE k = ?`, ['a'], { prepare: true });
  assert.deepEqual(rs.rows.map((r) => r.get('v')), ['v3', 'v2', 'v1']);
});
