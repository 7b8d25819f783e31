import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { openApiContract } from '@parley/http/openapi-contract';
import { deferrer } from '@parley/test-support';
import { startAll, newUser, call } from '@parley/test-support/query-svc';
import { makeEnvelopes, writeCql, writeEs } from '@parley/test-support/store-fixtures';
import { newEventEnvelope, Snowflake } from '@parley/envelope';
import { connectNats } from '@parley/clients';
import { ensureMessageStream } from '@parley/nats';
import { infra, uniqueName } from '@parley/test-support';

test('every chat-query-svc route answers as its generated OpenAPI document says, on success and on error', async (t) => {
  const defer = deferrer(t);
  const nats = { stream: uniqueName('S'), prefix: uniqueName('p') };
  const q = await startAll(defer, { QUERY_ADMIN_TOKEN: 'operator-secret', NATS_URL: infra.natsUrl, NATS_STREAM: nats.stream, NATS_SUBJECT_PREFIX: nats.prefix });
  const nc = await connectNats({ url: infra.natsUrl, name: 'openapi-test' });
  defer(() => nc.close());
  await ensureMessageStream(nc.client.jsm, { name: nats.stream, prefix: nats.prefix });
  defer(() => nc.client.jsm.streams.delete(nats.stream));
  const [owner, stranger] = [await newUser(q.users.http), await newUser(q.users.http)];
  const room = await q.newRoom(owner);
  const now = Date.now();
  const envs = makeEnvelopes(['hello world', 'a "quoted" <b>word</b>', 'hello again 🦊'].map((body, i) => ({ roomId: room, senderId: owner.id, body, at: now - 1000 + i })));
  const ids = new Snowflake({ instance: 9 });
  const reply = newEventEnvelope(ids.next(), { kind: 'message', room_id: room, sender_id: owner.id, sender_name: 'o', body: 'a reply', client_msg_id: 'r1', reply_to: envs[0]!.id });
  const edit = newEventEnvelope(ids.next(), { kind: 'edit', room_id: room, sender_id: owner.id, sender_name: 'o', client_msg_id: 'e1', target_id: envs[0]!.id, body: 'hello world, edited' });
  await Promise.all([writeCql(q.cql, q.keyspace, [...envs, reply, edit]), writeEs(q.es, q.alias, envs)]);

  const docAnswer = await call(q.http, 'GET', '/openapi.json');
  const contract = openApiContract(docAnswer.body);
  const expect = async (status: number, path: string, token?: string, method: 'GET' | 'POST' | 'PUT' = 'GET', body?: unknown) => {
    const r = await call(q.http, method, path, { ...(token === undefined ? {} : { token }), ...(body === undefined ? {} : { body }) });
    assert.equal(r.status, status, `${method} ${path}: ${JSON.stringify(r.body)}`);
    contract.check(method, path, r);
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


  const one = `/v1/rooms/${room}/messages/${envs[0]!.id}`;
  const state = await expect(200, one, owner.token);
  assert.equal(state.body, 'hello world, edited');
  assert.equal(state.reply_count, 1);
  await expect(404, `/v1/rooms/${room}/messages/${reply.id}0`, owner.token);
  await expect(403, one, stranger.token);
  const versions = await expect(200, `${one}/versions`, owner.token);
  assert.deepEqual(versions.versions.map((v: { body: string }) => v.body), ['hello world', 'hello world, edited']);
  await expect(401, `${one}/versions`);
  const thread = await expect(200, `${one}/thread`, owner.token);
  assert.deepEqual(thread.messages.map((m: { id: string }) => m.id), [reply.id]);
  await expect(400, `${one}/thread?after_id=nope`, owner.token);
  await expect(200, '/v1/mentions', owner.token);
  await expect(400, '/v1/mentions?limit=0', owner.token);
  await expect(401, '/v1/mentions');
  const mark = await expect(200, `/v1/rooms/${room}/read`, owner.token, 'PUT', { message_id: envs[1]!.id });
  assert.equal(mark.read_up_to, envs[1]!.id);
  await expect(400, `/v1/rooms/${room}/read`, owner.token, 'PUT', { message_id: 'x' });
  await expect(404, `/v1/rooms/${room}/read`, owner.token, 'PUT', { message_id: '9000000000000000000' });
  await expect(403, `/v1/rooms/${room}/read`, stranger.token, 'PUT', { message_id: envs[1]!.id });
  const readers = await expect(200, `${one}/readers`, owner.token);
  assert.equal(readers.count, 0, 'the author is not among the readers of their own message');
  await expect(403, `${one}/readers`, stranger.token);
  const unread = await expect(200, '/v1/unread', owner.token);
  assert.deepEqual(unread.rooms.map((r: { room_id: string }) => r.room_id), [room]);
  await expect(401, '/v1/unread');
  const erased = await expect(200, '/v1/admin/erasures', 'operator-secret', 'POST', { room_id: room });
  assert.deepEqual(erased.rooms.map((r: { room_id: string }) => r.room_id), [room]);
  await expect(403, '/v1/admin/erasures', owner.token, 'POST', { room_id: room });
  await expect(400, '/v1/admin/erasures', 'operator-secret', 'POST', {});

  assert.deepEqual(contract.unchecked(), [], 'every documented route was shown to keep its word');
});
