import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { deferrer } from '@parley/test-support';
import { startUserSvc, call, newUser } from '@parley/test-support/user-svc';
import { roomNames, startRoomSvc } from '@parley/test-support/room-svc';

test('room REST: every bad input gets a clear 4xx, never a 500; names are stored literally', async (t) => {
  const defer = deferrer(t);
  const users = await startUserSvc(defer);
  const names = await roomNames(defer);
  const r = await startRoomSvc(defer, names, users.grpcAddr, { ROOM_HTTP_BODY_LIMIT: '2048' });
  const me = await newUser(users.http);
  const token = me.token;
  const room = (await call(r.http, 'POST', '/v1/rooms', { token, body: { name: 'ok', visibility: 'public' } })).body.room;

  const cases: Array<[string, string, string, Parameters<typeof call>[3], number]> = [
    ['missing name', 'POST', '/v1/rooms', { body: { visibility: 'public' } }, 400],
    ['extra field', 'POST', '/v1/rooms', { body: { name: 'x', owner_id: me.id } }, 400],
    ['wrong type', 'POST', '/v1/rooms', { body: { name: 7 } }, 400],
    ['bad visibility', 'POST', '/v1/rooms', { body: { name: 'x', visibility: 'secret' } }, 400],
    ['empty name', 'POST', '/v1/rooms', { body: { name: '' } }, 400],
    ['over-long name', 'POST', '/v1/rooms', { body: { name: '🦊'.repeat(101) } }, 400],
    ['control char', 'POST', '/v1/rooms', { body: { name: 'a\u0007b' } }, 400],
    ['bidi override', 'POST', '/v1/rooms', { body: { name: 'a\u202Eb' } }, 400],
    ['invalid UTF-8', 'POST', '/v1/rooms', { raw: Buffer.concat([Buffer.from('{"name":"'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('"}')]) }, 400],
    ['huge body', 'POST', '/v1/rooms', { body: { name: 'x'.repeat(5000) } }, 413],
    ['rename extra field', 'PATCH', `/v1/rooms/${room.id}`, { body: { name: 'y', visibility: 'private' } }, 400],
    ['malformed room id', 'GET', '/v1/rooms/1%27%20OR%201=1', {}, 400],
    ['unknown room', 'GET', `/v1/rooms/${randomUUID()}`, {}, 404],
    ['unknown room join', 'POST', `/v1/rooms/${randomUUID()}/join`, {}, 404],
    ['unknown room delete', 'DELETE', `/v1/rooms/${randomUUID()}`, {}, 404],
    ['malformed member id', 'PUT', `/v1/rooms/${room.id}/members/abc`, {}, 400],
    ['bad scope', 'GET', '/v1/rooms?scope=everything', {}, 400],
    ['bad limit', 'GET', '/v1/rooms?limit=-1', {}, 400],
    ['unknown query field', 'GET', '/v1/rooms?owner=1', {}, 400],
    ['not a member (members list)', 'GET', `/v1/rooms/${room.id}/members`, { token: '' }, 403],
    ['unknown route', 'GET', '/v1/roomz', {}, 404],
  ];
  const stranger = await newUser(users.http);
  for (const [name, method, path, opts, status] of cases) {
    const asStranger = opts?.token === '';
    const res = await call(r.http, method, path, { ...opts, token: asStranger ? stranger.token : token });
    assert.equal(res.status, status, `${name}: ${JSON.stringify(res.body)}`);
    assert.equal(typeof res.body?.error?.code, 'string', name);
  }

  const tricky = `'; DROP TABLE rooms;-- %_ \\ "quoted" 🦊`;
  const created = await call(r.http, 'POST', '/v1/rooms', { token, body: { name: tricky } });
  assert.equal(created.status, 201);
  assert.equal((await call(r.http, 'GET', `/v1/rooms/${created.body.room.id}`, { token })).body.room.name, tricky);
  const count = await names.pg.client.query('SELECT count(*)::int AS n FROM rooms');
  assert.equal(count.rows[0].n, 2, 'only the two valid rooms exist');
});
