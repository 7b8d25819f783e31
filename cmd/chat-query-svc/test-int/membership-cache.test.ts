import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deferrer, eventually } from '@parley/test-support';
import { startAll, newUser, call } from '@parley/test-support/query-svc';

test('a cached membership answer is dropped by the removal event, long before the cache would let it go', async (t) => {
  const defer = deferrer(t);
  // A minute of caching: only the room event can end access within the few seconds below.
  const q = await startAll(defer, { QUERY_MEMBERSHIP_CACHE_MS: '60000' });
  const [owner, member] = [await newUser(q.users.http), await newUser(q.users.http)];
  const room = await q.newRoom(owner);
  assert.equal((await call(q.rooms.http, 'PUT', `/v1/rooms/${room}/members/${member.id}`, { token: owner.token })).status, 201);
  const latest = () => call(q.http, 'GET', `/v1/rooms/${room}/messages/latest`, { token: member.token });
  // Asked twice: the second answer may come from the cache.
  assert.equal((await latest()).status, 200);
  assert.equal((await latest()).status, 200);
  const removedAt = Date.now();
  assert.equal((await call(q.rooms.http, 'DELETE', `/v1/rooms/${room}/members/${member.id}`, { token: owner.token })).status, 204);
  await eventually(async () => ((await latest()).status === 403 ? true : undefined), 10_000, 50);
  const took = Date.now() - removedAt;
  assert.ok(took < 10_000, `access ended ${took} ms after the removal`);
  t.diagnostic(`access ended ${took} ms after the removal (cache: 60 s)`);

  // A deleted room: every member's answer goes at once.
  assert.equal((await call(q.http, 'GET', `/v1/rooms/${room}/messages/latest`, { token: owner.token })).status, 200);
  assert.equal((await call(q.rooms.http, 'DELETE', `/v1/rooms/${room}`, { token: owner.token })).status, 204);
  await eventually(async () => ((await call(q.http, 'GET', `/v1/rooms/${room}/messages/latest`, { token: owner.token })).status === 404 ? true : undefined), 10_000, 50);
});
