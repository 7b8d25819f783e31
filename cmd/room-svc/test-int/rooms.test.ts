import { test } from 'node:test';
import assert from 'node:assert/strict';
import { status } from '@grpc/grpc-js';
import { deferrer } from '@parley/test-support';
import { startUserSvc, call, newUser } from '@parley/test-support/user-svc';
import { roomNames, startRoomSvc, roomGrpcClient } from '@parley/test-support/room-svc';

const isCode = (code: number) => (e: { code: number }) => e.code === code;

test('room lifecycle: create, list, get, rename, join, leave, members, delete; gRPC agrees; events recorded', async (t) => {
  const defer = deferrer(t);
  const users = await startUserSvc(defer);
  const names = await roomNames(defer);
  const r = await startRoomSvc(defer, names, users.grpcAddr);
  const grpc = roomGrpcClient(defer, r.grpcAddr);
  const [owner, bob, eve] = [await newUser(users.http), await newUser(users.http), await newUser(users.http)];

  const pub = await call(r.http, 'POST', '/v1/rooms', { token: owner.token, body: { name: 'general', visibility: 'public' } });
  assert.equal(pub.status, 201);
  assert.equal(pub.body.room.role, 'owner');
  const pubId: string = pub.body.room.id;
  const priv = await call(r.http, 'POST', '/v1/rooms', { token: owner.token, body: { name: 'secret' } });
  assert.equal(priv.body.room.visibility, 'private');
  const privId: string = priv.body.room.id;

  const mine = await call(r.http, 'GET', '/v1/rooms', { token: owner.token });
  assert.deepEqual(mine.body.rooms.map((x: { name: string }) => x.name).sort(), ['general', 'secret']);
  const publicList = await call(r.http, 'GET', '/v1/rooms?scope=public', { token: bob.token });
  assert.deepEqual(publicList.body.rooms.map((x: { id: string }) => x.id), [pubId]);

  assert.equal((await call(r.http, 'GET', `/v1/rooms/${pubId}`, { token: bob.token })).status, 200);
  assert.equal((await call(r.http, 'GET', `/v1/rooms/${privId}`, { token: bob.token })).status, 403);
  assert.equal((await call(r.http, 'POST', `/v1/rooms/${privId}/join`, { token: bob.token })).status, 403);
  assert.equal((await call(r.http, 'POST', `/v1/rooms/${pubId}/join`, { token: bob.token })).body.role, 'member');
  assert.equal((await call(r.http, 'POST', `/v1/rooms/${pubId}/join`, { token: bob.token })).status, 200, 'join is idempotent');
  assert.deepEqual(await grpc.checkMembership(pubId, bob.id), { member: true, role: 'member' });
  assert.deepEqual(await grpc.checkMembership(privId, bob.id), { member: false, role: '' });

  assert.equal((await call(r.http, 'PATCH', `/v1/rooms/${pubId}`, { token: bob.token, body: { name: 'mine now' } })).status, 403);
  assert.equal((await call(r.http, 'DELETE', `/v1/rooms/${pubId}`, { token: bob.token })).status, 403);
  assert.equal((await call(r.http, 'PUT', `/v1/rooms/${privId}/members/${eve.id}`, { token: bob.token })).status, 403);
  const renamed = await call(r.http, 'PATCH', `/v1/rooms/${pubId}`, { token: owner.token, body: { name: 'lobby' } });
  assert.equal(renamed.body.room.name, 'lobby');
  assert.equal((await grpc.getRoom(pubId)).room?.name, 'lobby');

  assert.equal((await call(r.http, 'PUT', `/v1/rooms/${privId}/members/${eve.id}`, { token: owner.token })).status, 201);
  assert.equal((await call(r.http, 'PUT', `/v1/rooms/${privId}/members/${eve.id}`, { token: owner.token })).status, 200);
  assert.equal((await call(r.http, 'GET', `/v1/rooms/${privId}`, { token: eve.token })).body.room.role, 'member');
  const members = await call(r.http, 'GET', `/v1/rooms/${privId}/members`, { token: eve.token });
  assert.deepEqual(members.body.members.map((m: { user_id: string; role: string }) => [m.user_id, m.role]), [[owner.id, 'owner'], [eve.id, 'member']]);
  assert.equal((await call(r.http, 'GET', `/v1/rooms/${privId}/members`, { token: bob.token })).status, 403);
  assert.equal((await call(r.http, 'DELETE', `/v1/rooms/${privId}/members/${owner.id}`, { token: owner.token })).status, 409);
  assert.equal((await call(r.http, 'DELETE', `/v1/rooms/${privId}/members/${eve.id}`, { token: owner.token })).status, 204);
  assert.equal((await call(r.http, 'GET', `/v1/rooms/${privId}`, { token: eve.token })).status, 403);

  assert.equal((await call(r.http, 'POST', `/v1/rooms/${pubId}/leave`, { token: owner.token })).status, 409);
  assert.equal((await call(r.http, 'POST', `/v1/rooms/${pubId}/leave`, { token: bob.token })).status, 204);
  assert.equal((await call(r.http, 'POST', `/v1/rooms/${pubId}/leave`, { token: bob.token })).status, 403);

  assert.equal((await call(r.http, 'DELETE', `/v1/rooms/${pubId}`, { token: owner.token })).status, 204);
  assert.equal((await call(r.http, 'GET', `/v1/rooms/${pubId}`, { token: owner.token })).status, 404);
  assert.equal((await call(r.http, 'POST', `/v1/rooms/${pubId}/join`, { token: bob.token })).status, 404);
  await assert.rejects(grpc.getRoom(pubId), isCode(status.NOT_FOUND));
  await assert.rejects(grpc.checkMembership(pubId, owner.id), isCode(status.NOT_FOUND));
  await assert.rejects(grpc.getRoom('not-a-uuid'), isCode(status.INVALID_ARGUMENT));
  assert.deepEqual((await call(r.http, 'GET', '/v1/rooms', { token: owner.token })).body.rooms.map((x: { id: string }) => x.id), [privId]);

  const events = await names.pg.client.query<{ subject: string; type: string; room_id: string }>(
    "SELECT subject, payload->>'type' AS type, payload->>'room_id' AS room_id FROM room_outbox ORDER BY seq",
  );
  assert.deepEqual(events.rows.map((e) => `${e.type}:${e.room_id === pubId ? 'pub' : 'priv'}`), [
    'room.created:pub', 'room.created:priv', 'room.member_added:pub', 'room.member_added:priv',
    'room.member_removed:priv', 'room.member_removed:pub', 'room.deleted:pub',
  ]);
  for (const e of events.rows) {
    assert.equal(e.subject, `${names.prefix}.room.${e.room_id}.event.${e.type}`);
    assert.doesNotMatch(e.subject, /\.msg$/);
  }
});

test('room REST refuses callers without a valid session, and a logout reaches room-svc within its cache TTL', async (t) => {
  const defer = deferrer(t);
  const users = await startUserSvc(defer);
  const names = await roomNames(defer);
  const r = await startRoomSvc(defer, names, users.grpcAddr, { ROOM_AUTH_CACHE_TTL_MS: '1000' });
  const me = await newUser(users.http);
  for (const headers of [{}, { authorization: 'Bearer nope' }, { cookie: 'parley_session=' }] as Array<Record<string, string>>) {
    const res = await call(r.http, 'GET', '/v1/rooms', { headers });
    assert.equal(res.status, 401);
    assert.equal(res.body.error.code, 'UNAUTHENTICATED');
  }
  assert.equal((await call(r.http, 'GET', '/v1/rooms', { headers: { cookie: `parley_session=${me.token}` } })).status, 200);
  assert.equal((await call(users.http, 'DELETE', '/v1/sessions/current', { token: me.token })).status, 204);
  const t0 = Date.now();
  let refusedAfter = -1;
  while (Date.now() - t0 < 5000) {
    if ((await call(r.http, 'GET', '/v1/rooms', { token: me.token })).status === 401) {
      refusedAfter = Date.now() - t0;
      break;
    }
    await new Promise((res) => setTimeout(res, 50));
  }
  t.diagnostic(`revoked token refused by room-svc after ${refusedAfter} ms`);
  assert.ok(refusedAfter >= 0 && refusedAfter <= 1500, `refused after ${refusedAfter} ms`);
});

test('with user-svc unreachable, room REST answers 503, not 500', async (t) => {
  const defer = deferrer(t);
  const names = await roomNames(defer);
  const r = await startRoomSvc(defer, names, '127.0.0.1:1');
  const res = await call(r.http, 'GET', '/v1/rooms', { token: 'A'.repeat(43) });
  assert.equal(res.status, 503);
  assert.equal(res.body.error.code, 'DEPENDENCY_UNAVAILABLE');
});

test('adding a member asks user-svc first: 404 for an unknown user, 503 while user-svc is down, nothing added', async (t) => {
  const defer = deferrer(t);
  const users = await startUserSvc(defer);
  const names = await roomNames(defer);
  const r = await startRoomSvc(defer, names, users.grpcAddr, { ROOM_AUTH_CACHE_TTL_MS: '30000' });
  const [owner, bob, eve] = [await newUser(users.http), await newUser(users.http), await newUser(users.http)];
  const roomId: string = (await call(r.http, 'POST', '/v1/rooms', { token: owner.token, body: { name: 'club' } })).body.room.id;
  const add = (userId: string, token = owner.token) => call(r.http, 'PUT', `/v1/rooms/${roomId}/members/${userId}`, { token });
  const memberIds = async () => (await call(r.http, 'GET', `/v1/rooms/${roomId}/members`, { token: owner.token })).body.members.map((m: { user_id: string }) => m.user_id);

  const ghost = '00000000-0000-4000-8000-000000000000';
  const unknown = await add(ghost);
  assert.equal(unknown.status, 404);
  assert.equal(unknown.body.error.code, 'NOT_FOUND');
  assert.equal((await add(ghost, bob.token)).status, 403, 'a non-owner learns nothing about user ids');
  assert.equal((await add(eve.id.toUpperCase())).status, 201);
  assert.deepEqual(await memberIds(), [owner.id, eve.id]);

  // The owner's session stays cached in room-svc, so only the user lookup meets the outage.
  users.svc.shutdown('test');
  await users.svc.done;
  const down = await add(bob.id);
  assert.equal(down.status, 503);
  assert.equal(down.body.error.code, 'DEPENDENCY_UNAVAILABLE');
  assert.deepEqual(await memberIds(), [owner.id, eve.id]);
  const pending = await names.pg.client.query("SELECT 1 FROM room_outbox WHERE payload->>'type' = 'room.member_added'");
  assert.equal(pending.rowCount, 1, 'only eve was announced');
});
