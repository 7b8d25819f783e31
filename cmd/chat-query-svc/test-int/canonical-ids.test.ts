import { test } from 'node:test';
import assert from 'node:assert/strict';
import { status } from '@grpc/grpc-js';
import { deferrer } from '@parley/test-support';
import { startAll, newUser, call } from '@parley/test-support/query-svc';
import { makeEnvelopes, writeCql, writeEs } from '@parley/test-support/store-fixtures';

/** Upper case as a client might type it, and a mix: the same room as its canonical spelling. */
const spellings = (room: string) => [room.toUpperCase(), room.replace(/[a-f]/g, (c, i: number) => (i % 2 ? c.toUpperCase() : c))];
/** Notations PostgreSQL reads but Parley refuses: one room, one name. */
const refused = (room: string) => [`{${room}}`, `urn:uuid:${room}`, room.replaceAll('-', '')];

test('REST and gRPC: a room id in any case is the same room; braces and URN forms are refused', async (t) => {
  const defer = deferrer(t);
  const q = await startAll(defer);
  const owner = await newUser(q.users.http);
  const room = await q.newRoom(owner);
  const envs = makeEnvelopes([0, 1, 2].map((i) => ({ roomId: room, senderId: owner.id, body: `canonical word${i}`, at: Date.now() - 60_000 + i })));
  await writeCql(q.cql, q.keyspace, envs);
  await writeEs(q.es, q.alias, envs);
  const want = envs.map((e) => e.id);
  const ids = (body: { messages: Array<{ id: string; room_id: string }> }) => body.messages.map((m) => m.id);

  for (const spelled of [room, ...spellings(room)]) {
    for (const path of ['messages/latest', 'messages', 'search?q=canonical']) {
      const r = await call(q.http, 'GET', `/v1/rooms/${encodeURIComponent(spelled)}/${path}`, { token: owner.token });
      assert.equal(r.status, 200, `${spelled} ${path}: ${JSON.stringify(r.body)}`);
      assert.deepEqual(new Set(ids(r.body)), new Set(want), `${spelled} ${path}`);
      assert.ok(r.body.messages.every((m: { room_id: string }) => m.room_id === room), 'answers carry the canonical id');
    }
    const viaGrpc = await q.grpc.list(owner.token, { roomId: spelled, limit: 10 });
    assert.deepEqual(viaGrpc.messages.map((m) => m.id), want, `gRPC ${spelled}`);
  }
  for (const spelled of refused(room)) {
    const r = await call(q.http, 'GET', `/v1/rooms/${encodeURIComponent(spelled)}/messages/latest`, { token: owner.token });
    assert.equal(r.status, 400, `${spelled}: ${JSON.stringify(r.body)}`);
    assert.match(r.body.error.message, /UUID/);
    await assert.rejects(q.grpc.list(owner.token, { roomId: spelled }), (e: { code: number }) => e.code === status.INVALID_ARGUMENT);
  }
});
