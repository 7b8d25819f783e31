import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { createCassandra } from '@parley/clients';
import { infra, uniqueName, deferrer } from '@parley/test-support';
import { migrateCassandra } from '../src/index.js';

const dir = fileURLToPath(new URL('../../../cql', import.meta.url));

test('cql migrations create the keyspace, apply once, revert and reapply', async (t) => {
  const defer = deferrer(t);
  const keyspace = uniqueName('mig');
  const h = createCassandra({ contactPoints: infra.cassandraContactPoints, localDataCenter: infra.cassandraLocalDc });
  defer(() => h.close());
  defer(() => h.client.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`));
  const first = await migrateCassandra({ client: h.client, keyspace, dir, direction: 'up' });
  assert.ok(first.applied.length >= 1);
  const again = await migrateCassandra({ client: h.client, keyspace, dir, direction: 'up' });
  assert.deepEqual(again.applied, []);
  const tables = await h.client.execute('SELECT table_name FROM system_schema.tables WHERE keyspace_name = ?', [keyspace], { prepare: true });
  assert.ok(tables.rows.some((r) => r.get('table_name') === 'messages'));
  const down = await migrateCassandra({ client: h.client, keyspace, dir, direction: 'down', steps: first.applied.length });
  assert.equal(down.current, 0);
  const after = await h.client.execute('SELECT table_name FROM system_schema.tables WHERE keyspace_name = ?', [keyspace], { prepare: true });
  assert.deepEqual(after.rows.map((r) => r.get('table_name')), ['schema_migrations']);
  const re = await migrateCassandra({ client: h.client, keyspace, dir, direction: 'up' });
  assert.equal(re.applied.length, first.applied.length);
});

test('cql migrations refuse an unsafe keyspace name', async (t) => {
  const defer = deferrer(t);
  const h = createCassandra({ contactPoints: infra.cassandraContactPoints, localDataCenter: infra.cassandraLocalDc });
  defer(() => h.close());
  await assert.rejects(migrateCassandra({ client: h.client, keyspace: 'x; DROP KEYSPACE system', dir, direction: 'up' }), /invalid keyspace name/);
});
