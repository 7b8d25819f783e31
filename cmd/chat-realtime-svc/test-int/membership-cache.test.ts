import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deferrer, eventually, grpcServerCalls } from '@parley/test-support';
import { call, Client, newUser, startStack } from '@parley/test-support/realtime-svc';

/** How many CheckMembership calls room-svc has served (its own Prometheus counter). */
const membershipChecks = (roomSvcHttp: string) => grpcServerCalls(roomSvcHttp, 'CheckMembership');

async function joinAndLeave(url: string, token: string): Promise<void> {
  const c = await Client.open(url, token);
  await c.next((f) => f.type === 'history');
  c.close();
}

test('joins reuse room-svc\'s "member" answer, and a removal event ends it at once: the removed member is refused despite a minute of caching', async (t) => {
  const defer = deferrer(t);
  const s = await startStack(defer);
  const edge = await s.startEdge({ REALTIME_MEMBERSHIP_CACHE_MS: '60000' });
  const [owner, bob] = [await newUser(s.users.http), await newUser(s.users.http)];
  const room = await s.newRoom(owner, [bob]);
  const url = `${edge.url}/v1/rooms/${room}/ws`;

  await joinAndLeave(url, bob.token);
  const afterFirst = await membershipChecks(s.rooms.http);
  for (let i = 0; i < 5; i++) await joinAndLeave(url, bob.token);
  assert.equal(await membershipChecks(s.rooms.http), afterFirst, 'five more joins, no more membership questions');

  const live = await Client.open(url, bob.token);
  await live.next((f) => f.type === 'history');
  const removed = await call(s.rooms.http, 'DELETE', `/v1/rooms/${room}/members/${bob.id}`, { token: owner.token });
  assert.equal(removed.status, 204);
  assert.equal((await live.waitClosed()).code, 4403, 'the open socket is closed by the event');
  // The event that closed the socket also dropped the cached answer: the next join asks room-svc.
  await assert.rejects(Client.open(url, bob.token), (e: { status: number }) => e.status === 403);

  // Added back: asked again, admitted again.
  const joined = await call(s.rooms.http, 'POST', `/v1/rooms/${room}/join`, { token: bob.token });
  assert.ok(joined.status === 200 || joined.status === 201);
  await eventually(async () => {
    await joinAndLeave(url, bob.token);
    return true;
  });
});

test('with REALTIME_MEMBERSHIP_CACHE_MS=0 every join asks room-svc', async (t) => {
  const defer = deferrer(t);
  const s = await startStack(defer);
  const edge = await s.startEdge({ REALTIME_MEMBERSHIP_CACHE_MS: '0' });
  const owner = await newUser(s.users.http);
  const room = await s.newRoom(owner);
  const url = `${edge.url}/v1/rooms/${room}/ws`;
  const before = await membershipChecks(s.rooms.http);
  for (let i = 0; i < 3; i++) await joinAndLeave(url, owner.token);
  assert.equal((await membershipChecks(s.rooms.http)) - before, 3);
});
