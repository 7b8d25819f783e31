import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { openApiContract } from '@parley/http/openapi-contract';
import { deferrer } from '@parley/test-support';
import { startAll, newUser, call } from '@parley/test-support/query-svc';
import { makeEnvelopes, writeCql, writeEs } from '@parley/test-support/store-fixtures';

test('every chat-query-svc route answers as its generated OpenAPI document says, on success and on error', async (t) => {
  const defer = deferrer(t);
  const q = await startAll(defer);
  const [owner, stranger] = [await newUser(q.users.http), await newUser(q.users.http)];
  const room = await q.newRoom(owner);
  const now = Date.now();
  const envs = makeEnvelopes(['hello world', 'a "quoted" <b>word</b>', 'hello again 🦊'].map((body, i) => ({ roomId: room, senderId: owner.id, body, at: now - 1000 + i })));
  await Promise.all([writeCql(q.cql, q.keyspace, envs), writeEs(q.es, q.alias, envs)]);

  const docAnswer = await call(q.http, 'GET', '/openapi.json');
  const contract = openApiContract(docAnswer.body);
  const expect = async (status: number, path: string, token?: string) => {
    const r = await call(q.http, 'GET', path, token === undefined ? {} : { token });
    assert.equal(r.status, status, `GET ${path}: ${JSON.stringify(r.body)}`);
    contract.check('GET', path, r);
    return r.body;
  };
  contract.check('GET', '/openapi.json', docAnswer);
  await expect(200, '/healthz');
  await expect(200, '/readyz');

  for (const base of [`/v1/rooms/${room}/messages?`, `/v1/rooms/${room}/search?q=hello&`, `/v1/rooms/${room}/messages/latest?`]) {
    const first = await expect(200, `${base}limit=1`, owner.token);
    assert.equal(first.messages.length, 1, base);
    await expect(400, `${base}limit=0`, owner.token);
    await expect(401, `${base}limit=1`);
    await expect(403, `${base}limit=1`, stranger.token);
    await expect(404, `${base.replace(room, randomUUID())}limit=1`, owner.token);
  }
  const history = await expect(200, `/v1/rooms/${room}/messages?order=oldest&from=${now - 5000}&to=${now + 5000}&sender=${owner.id}`, owner.token);
  assert.deepEqual(history.messages.map((m: { id: string }) => m.id), envs.map((e) => e.id));
  assert.equal(history.next_cursor, null);
  const paged = await expect(200, `/v1/rooms/${room}/search?q=hello&limit=1`, owner.token);
  assert.equal(typeof paged.next_cursor, 'string');
  const found = await expect(200, `/v1/rooms/${room}/search?q=hello&limit=1&cursor=${paged.next_cursor}`, owner.token);
  assert.ok(found.messages[0].highlights.length > 0, 'search hits carry highlights');
  const latest = await expect(200, `/v1/rooms/${room}/messages/latest?before_id=${envs[2]!.id}`, owner.token);
  assert.deepEqual(latest.messages.map((m: { id: string }) => m.id), envs.slice(0, 2).map((e) => e.id));

  assert.deepEqual(contract.unchecked(), [], 'every documented route was shown to keep its word');
});
