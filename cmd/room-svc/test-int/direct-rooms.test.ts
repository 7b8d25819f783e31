import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deferrer } from '@parley/test-support';
import { startUserSvc, call, newUser } from '@parley/test-support/user-svc';
import { roomNames, startRoomSvc } from '@parley/test-support/room-svc';

test('a direct room: one per pair whoever asks and however they race; both stay members; nobody else gets in', async (t) => {
  const defer = deferrer(t);
  const users = await startUserSvc(defer);
  const r = await startRoomSvc(defer, await roomNames(defer), users.grpcAddr);
  const [ann, bob, eve] = [await newUser(users.http), await newUser(users.http), await newUser(users.http)];
  const open = (who: { token: string }, other: string) => call(r.http, 'POST', '/v1/direct-rooms', { token: who.token, body: { user_id: other } });

  // Both at once, from both sides: one room.
  const answers = await Promise.all([open(ann, bob.id), open(bob, ann.id), open(ann, bob.id.toUpperCase()), open(bob, ann.id)]);
  assert.deepEqual(answers.map((a) => a.status).sort(), [200, 200, 200, 201], 'created once');
  assert.equal(new Set(answers.map((a) => a.body.room.id)).size, 1, 'the same room for the pair');
  const room = answers[0]!.body.room;
  assert.equal(room.visibility, 'direct');
  const other = (await open(ann, eve.id)).body.room;
  assert.notEqual(other.id, room.id, 'another pair, another room');

  const members = await call(r.http, 'GET', `/v1/rooms/${room.id}/members`, { token: bob.token });
  assert.deepEqual(members.body.members.map((m: { user_id: string }) => m.user_id).sort(), [ann.id, bob.id].sort());
  const mine = await call(r.http, 'GET', '/v1/rooms?scope=mine', { token: bob.token });
  assert.ok(mine.body.rooms.some((x: { id: string }) => x.id === room.id), "listed among bob's rooms");
  const pub = await call(r.http, 'GET', '/v1/rooms?scope=public&limit=200', { token: eve.token });
  assert.ok(!pub.body.rooms.some((x: { id: string }) => x.id === room.id), 'never public');

  // Neither can leave the other out, and nobody gets in.
  const refusals = [
    await call(r.http, 'POST', `/v1/rooms/${room.id}/leave`, { token: ann.token }),
    await call(r.http, 'DELETE', `/v1/rooms/${room.id}/members/${bob.id}`, { token: ann.token }),
    await call(r.http, 'PUT', `/v1/rooms/${room.id}/members/${eve.id}`, { token: ann.token }),
    await call(r.http, 'PATCH', `/v1/rooms/${room.id}`, { token: ann.token, body: { name: 'mine' } }),
    await call(r.http, 'DELETE', `/v1/rooms/${room.id}`, { token: bob.token }),
  ];
  assert.deepEqual(refusals.map((x) => x.status), [409, 409, 409, 409, 409]);
  assert.equal((await call(r.http, 'POST', `/v1/rooms/${room.id}/join`, { token: eve.token })).status, 403, 'not joinable');
  assert.equal((await call(r.http, 'GET', `/v1/rooms/${room.id}/members`, { token: eve.token })).status, 403);

  // Bad input.
  assert.equal((await open(ann, ann.id)).status, 400, 'with yourself');
  assert.equal((await open(ann, '00000000-0000-4000-8000-000000000000')).status, 404, 'an unknown user');
  assert.equal((await open(ann, 'not-a-uuid')).status, 400);
  assert.equal((await call(r.http, 'POST', '/v1/direct-rooms', { token: ann.token, body: { user_id: bob.id, extra: 1 } })).status, 400);
  assert.equal((await call(r.http, 'POST', '/v1/rooms', { token: ann.token, body: { name: 'x', visibility: 'direct' } })).status, 400, 'not through POST /v1/rooms');
});
