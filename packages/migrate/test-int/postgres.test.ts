import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { createPostgres, quoteIdent } from '@parley/clients';
import { infra, uniqueName, deferrer } from '@parley/test-support';
import { migratePostgres } from '../src/index.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));

for (const component of ['user', 'room']) {
  test(`postgres migrations (${component}): up, up again, down, up`, async (t) => {
    const defer = deferrer(t);
    const schema = uniqueName('mig');
    const url = infra.databaseUrl.replace(/\/[^/]*$/, '/postgres');
    const admin = createPostgres({ url });
    defer(() => admin.close());
    await admin.client.query(`CREATE SCHEMA ${quoteIdent(schema)}`);
    defer(() => admin.client.query(`DROP SCHEMA ${quoteIdent(schema)} CASCADE`));
    const pg = createPostgres({ url, schema });
    defer(() => pg.close());
    const dir = `${root}migrations/${component}`;

    const first = await migratePostgres({ pool: pg.client, component, dir, direction: 'up' });
    assert.ok(first.applied.length >= 1);
    assert.equal(first.current, first.applied.at(-1)!.version);
    const second = await migratePostgres({ pool: pg.client, component, dir, direction: 'up' });
    assert.deepEqual(second.applied, [], 'a second up applies nothing');

    const tables = await pg.client.query<{ n: string }>(
      'SELECT count(*) AS n FROM information_schema.tables WHERE table_schema = $1',
      [schema],
    );
    assert.ok(Number(tables.rows[0]!.n) >= 2);

    const down = await migratePostgres({ pool: pg.client, component, dir, direction: 'down', steps: first.applied.length });
    assert.equal(down.current, 0);
    const left = await pg.client.query<{ n: string }>(
      "SELECT count(*) AS n FROM information_schema.tables WHERE table_schema = $1 AND table_name <> 'parley_migrations'",
      [schema],
    );
    assert.equal(Number(left.rows[0]!.n), 0, 'down removed every table');
    const again = await migratePostgres({ pool: pg.client, component, dir, direction: 'up' });
    assert.equal(again.applied.length, first.applied.length);
  });
}

test('a failing migration rolls back and reports which one', async (t) => {
  const defer = deferrer(t);
  const schema = uniqueName('mig');
  const url = infra.databaseUrl.replace(/\/[^/]*$/, '/postgres');
  const pg = createPostgres({ url, schema });
  defer(() => pg.close());
  await pg.client.query(`CREATE SCHEMA ${quoteIdent(schema)}`);
  defer(() => pg.client.query(`DROP SCHEMA ${quoteIdent(schema)} CASCADE`));
  const { mkdtemp, writeFile } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const dir = await mkdtemp(`${tmpdir()}/mig-`);
  await writeFile(`${dir}/0001_ok.up.sql`, 'CREATE TABLE ok (x int);');
  await writeFile(`${dir}/0002_bad.up.sql`, 'CREATE TABLE half (x int); SELECT no_such_function();');
  await assert.rejects(migratePostgres({ pool: pg.client, component: 'x', dir, direction: 'up' }), /x\/2_bad up failed/);
  const half = await pg.client.query("SELECT 1 FROM information_schema.tables WHERE table_schema = $1 AND table_name = 'half'", [schema]);
  assert.equal(half.rowCount, 0, 'the failed migration left nothing behind');
  const v = await pg.client.query<{ v: number }>("SELECT max(version) AS v FROM parley_migrations WHERE component = 'x'");
  assert.equal(v.rows[0]!.v, 1);
});
