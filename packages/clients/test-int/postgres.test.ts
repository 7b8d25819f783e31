import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPostgres, quoteIdent } from '../src/index.js';
import { infra, uniqueName, deferrer } from '@parley/test-support';

test('postgres: a query round trip in a private schema', async (t) => {
  const defer = deferrer(t);
  const schema = uniqueName('t');
  const admin = createPostgres({ url: infra.databaseUrl.replace(/\/[^/]*$/, '/postgres') });
  defer(() => admin.close());
  await admin.health();
  await admin.client.query(`CREATE SCHEMA ${quoteIdent(schema)}`);
  defer(() => admin.client.query(`DROP SCHEMA ${quoteIdent(schema)} CASCADE`));

  const pg = createPostgres({ url: infra.databaseUrl.replace(/\/[^/]*$/, '/postgres'), schema });
  defer(() => pg.close());
  await pg.client.query('CREATE TABLE notes (id int PRIMARY KEY, body text NOT NULL)');
  await pg.client.query('INSERT INTO notes VALUES ($1, $2)', [1, "it's; DROP TABLE notes --"]);
  const rs = await pg.client.query<{ body: string }>('SELECT body FROM notes WHERE id = $1', [1]);
  assert.equal(rs.rows[0]?.body, "it's; DROP TABLE notes --");
  const where = await pg.client.query<{ s: string }>('SELECT current_schema() AS s');
  assert.equal(where.rows[0]?.s, schema);
});

test('postgres: health fails against a dead port', async (t) => {
  const defer = deferrer(t);
  const pg = createPostgres({ url: 'postgres://postgres@127.0.0.1:1/none' });
  defer(() => pg.close());
  await assert.rejects(pg.health());
});

test('postgres: an unreachable server is classified as a retryable 503, not a 500', async (t) => {
  const { toParleyError } = await import('@parley/errors');
  const defer = deferrer(t);
  const pg = createPostgres({ url: 'postgres://postgres@127.0.0.1:1/none' });
  defer(() => pg.close());
  const err = await pg.client.query('SELECT 1').then(() => undefined, (e: unknown) => e);
  const pe = toParleyError(err);
  assert.equal(pe.code, 'DEPENDENCY_UNAVAILABLE');
  assert.equal(pe.httpStatus, 503);
});
