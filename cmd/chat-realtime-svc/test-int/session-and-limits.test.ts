import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deferrer } from '@parley/test-support';
import { Client, call, newUser, sendAndAck, startStack } from '@parley/test-support/realtime-svc';

test('logging out closes the session\'s live sockets with 4401 and refuses it at once, other sessions stay', async (t) => {
  const defer = deferrer(t);
  const s = await startStack(defer);
  // A long auth cache: without the event, the revoked token would still be admitted from it.
  const edge = await s.startEdge({ REALTIME_AUTH_CACHE_TTL_MS: '30000' });
  const alice = await newUser(s.users.http);
  const otherSession = (await call(s.users.http, 'POST', '/v1/sessions', { body: { username: alice.username, password: 'correct horse battery' } })).body.token as string;
  const room = await s.newRoom(alice);
  const url = `${edge.url}/v1/rooms/${room}/ws`;
  const [c1, c2, other] = [await Client.open(url, alice.token), await Client.open(url, alice.token, { via: 'protocol' }), await Client.open(url, otherSession)];
  defer(() => [c1, c2, other].forEach((c) => c.close()));
  await Promise.all([c1, c2, other].map((c) => c.next((f) => f.type === 'history')));

  const t0 = Date.now();
  assert.equal((await call(s.users.http, 'DELETE', '/v1/sessions/current', { token: alice.token })).status, 204);
  const closes = await Promise.all([c1.waitClosed(3000), c2.waitClosed(3000)]);
  t.diagnostic(`sockets closed ${Date.now() - t0} ms after the logout answered`);
  for (const c of closes) assert.deepEqual(c, { code: 4401, reason: 'session ended' });

  await assert.rejects(Client.open(url, alice.token), (e: { status: number }) => e.status === 401, 'the cached validation is not trusted after the event');
  assert.equal(other.closed, undefined, 'another session of the same user stays connected');
  await sendAndAck(other, 'still-here', 'hi');
});

test('a socket does not outlive its session: it is closed with 4401 when the session expires', async (t) => {
  const defer = deferrer(t);
  const s = await startStack(defer);
  const edge = await s.startEdge({ REALTIME_AUTH_CACHE_TTL_MS: '30000' });
  const [alice, bob] = [await newUser(s.users.http), await newUser(s.users.http)];
  // Alice's session ends in a few seconds (the shortest TTL user-svc issues is a minute).
  await s.users.pg.client.query("UPDATE sessions SET expires_at = now() + interval '3 seconds' WHERE user_id = $1", [alice.id]);
  const room = await s.newRoom(alice, [bob]);
  const url = `${edge.url}/v1/rooms/${room}/ws`;
  const [a, b] = [await Client.open(url, alice.token), await Client.open(url, bob.token)];
  defer(() => [a, b].forEach((c) => c.close()));
  await Promise.all([a, b].map((c) => c.next((f) => f.type === 'history')));
  assert.equal(a.closed, undefined, 'open while the session lasts');
  assert.deepEqual(await a.waitClosed(8000), { code: 4401, reason: 'session expired: log in again' });
  await assert.rejects(Client.open(url, alice.token), (e: { status: number }) => e.status === 401, 'and it cannot come back');
  assert.equal(b.closed, undefined, 'other sessions stay');
  await sendAndAck(b, 'still-here', 'hi');
});

test('a rate-limited send says how long until the window resets (retry_after_ms)', async (t) => {
  const defer = deferrer(t);
  const s = await startStack(defer);
  // A long fixed window, so the two sends never fall into two windows.
  const edge = await s.startEdge({ REALTIME_SENDS_PER_USER: '1', REALTIME_RATE_WINDOW_S: '600' });
  const alice = await newUser(s.users.http);
  const room = await s.newRoom(alice);
  const c = await Client.open(`${edge.url}/v1/rooms/${room}/ws`, alice.token);
  defer(() => c.close());
  await sendAndAck(c, 'one', 'first');
  c.send({ type: 'send', client_msg_id: 'two', body: 'second' });
  const err = await c.next((f) => f.type === 'error' && f['client_msg_id'] === 'two');
  assert.equal(err['code'], 'rate_limited');
  const wait = err['retry_after_ms'];
  assert.ok(typeof wait === 'number' && Number.isInteger(wait) && wait > 0 && wait <= 600_000, `retry_after_ms = ${String(wait)}`);
});

test('join limits per IP: behind a trusted proxy per X-Forwarded-For client, otherwise per peer', async (t) => {
  const defer = deferrer(t);
  const s = await startStack(defer);
  // Windows are fixed and aligned to the clock: a long one, so the joins below never straddle two.
  const behind = await s.startEdge({ REALTIME_TRUSTED_PROXIES: '127.0.0.1,::1', REALTIME_JOINS_PER_IP: '2', REALTIME_RATE_WINDOW_S: '600' });
  const alice = await newUser(s.users.http);
  const room = await s.newRoom(alice);
  const join = async (base: string, forwardedFor: string) => {
    const c = await Client.open(`${base}/v1/rooms/${room}/ws`, alice.token, { headers: { 'x-forwarded-for': forwardedFor } });
    c.close();
  };
  await join(behind.url, '203.0.113.1');
  await join(behind.url, '198.51.100.7, 203.0.113.1');
  await assert.rejects(join(behind.url, '203.0.113.1'), (e: { status: number }) => e.status === 429);
  await join(behind.url, '203.0.113.2');

  const direct = await s.startEdge({ REALTIME_JOINS_PER_IP: '2', REALTIME_RATE_WINDOW_S: '600', REALTIME_REDIS_PREFIX: `${s.redisPrefix}direct:` });
  // Each join claims another address. Counted per claim, none would ever be refused; counted per
  // peer, the third is. (A limiter that failed open for a moment under load may let one more by.)
  let refusedAt = 0;
  for (let i = 1; i <= 6 && refusedAt === 0; i++) {
    try {
      await join(direct.url, `203.0.113.${i}`);
    } catch (err) {
      if ((err as { status?: number }).status !== 429) throw err;
      refusedAt = i;
    }
  }
  assert.ok(refusedAt >= 3, `an untrusted peer cannot pick its address (refused at join ${refusedAt})`);
});
