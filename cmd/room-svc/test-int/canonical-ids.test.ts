import { test } from 'node:test';
import assert from 'node:assert/strict';
import { status } from '@grpc/grpc-js';
import { deferrer } from '@parley/test-support';
import { startUserSvc, call, newUser } from '@parley/test-support/user-svc';
import { roomNames, startRoomSvc, roomGrpcClient } from '@parley/test-support/room-svc';

test('room REST and gRPC: room and user ids in any case name the same rows; braces and URN forms are refused', async (t) => {
  const defer = deferrer(t);
  const users = await startUserSvc(defer);
  const names = await roomNames(defer);
  const r = await startRoomSvc(defer, names, users.grpcAddr);
  const grpc = roomGrpcClient(defer, r.grpcAddr);
  const [owner, bob] = [await newUser(users.http), await newUser(users.http)];
  const created = await call(r.http, 'POST', '/v1/rooms', { token: owner.token, body: { name: 'cased', visibility: 'public' } });
  const room: string = created.body.room.id;
  const upper = room.toUpperCase();
  const mixed = room.replace(/[a-f]/g, (c, i: number) => (i % 2 ? c.toUpperCase() : c));

  for (const spelled of [upper, mixed]) {
    const got = await call(r.http, 'GET', `/v1/rooms/${spelled}`, { token: owner.token });
    assert.equal(got.status, 200, spelled);
    assert.equal(got.body.room.id, room, 'answers carry the canonical id');
  }
  assert.equal((await call(r.http, 'POST', `/v1/rooms/${upper}/join`, { token: bob.token })).body.role, 'member');
  assert.equal((await call(r.http, 'POST', `/v1/rooms/${mixed}/join`, { token: bob.token })).status, 200, 'the same membership, not a second one');
  const members = await call(r.http, 'GET', `/v1/rooms/${room}/members`, { token: owner.token });
  assert.equal(members.body.members.filter((m: { user_id: string }) => m.user_id === bob.id).length, 1);
  assert.deepEqual(await grpc.checkMembership(upper, bob.id.toUpperCase()), { member: true, role: 'member' });
  assert.equal((await grpc.getRoom(mixed)).room?.id, room);

  for (const spelled of [`{${room}}`, `urn:uuid:${room}`, room.replaceAll('-', '')]) {
    const res = await call(r.http, 'GET', `/v1/rooms/${encodeURIComponent(spelled)}`, { token: owner.token });
    assert.equal(res.status, 400, `${spelled}: ${JSON.stringify(res.body)}`);
    await assert.rejects(grpc.checkMembership(spelled, bob.id), (e: { code: number }) => e.code === status.INVALID_ARGUMENT);
    await assert.rejects(grpc.getRoom(spelled), (e: { code: number }) => e.code === status.INVALID_ARGUMENT);
  }
  assert.equal((await call(r.http, 'DELETE', `/v1/rooms/${upper}/members/${bob.id.toUpperCase()}`, { token: owner.token })).status, 204);
  assert.deepEqual(await grpc.checkMembership(room, bob.id), { member: false, role: '' });
});
