import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deferrer, eventually } from '@parley/test-support';
import { Client, call, newUser, sendAndAck, startStack } from '@parley/test-support/realtime-svc';

test('refused joins answer before any upgrade: 400, 401, 403, 404, and a good join upgrades', async (t) => {
  const defer = deferrer(t);
  const s = await startStack(defer);
  const edge = await s.startEdge();
  const [owner, stranger] = [await newUser(s.users.http), await newUser(s.users.http)];
  const privateRoom = (await call(s.rooms.http, 'POST', '/v1/rooms', { token: owner.token, body: { name: 'p' } })).body.room.id as string;
  const refused = (url: string, token?: string) => Client.open(url, token).then(
    () => assert.fail('should have been refused'),
    (e: { status: number; body: { error: { code: string } } }) => ({ status: e.status, code: e.body.error?.code }),
  );
  assert.deepEqual(await refused(`${edge.url}/v1/rooms/${privateRoom}/ws`), { status: 401, code: 'UNAUTHENTICATED' });
  assert.deepEqual(await refused(`${edge.url}/v1/rooms/${privateRoom}/ws`, 'not-a-token'), { status: 401, code: 'UNAUTHENTICATED' });
  assert.deepEqual(await refused(`${edge.url}/v1/rooms/${privateRoom}/ws`, stranger.token), { status: 403, code: 'FORBIDDEN' });
  assert.deepEqual(await refused(`${edge.url}/v1/rooms/00000000-0000-4000-8000-000000000000/ws`, owner.token), { status: 404, code: 'NOT_FOUND' });
  assert.deepEqual(await refused(`${edge.url}/v1/rooms/${privateRoom}/ws?last_id=abc`, owner.token), { status: 400, code: 'VALIDATION_FAILED' });
  assert.deepEqual(await refused(`${edge.url}/v1/rooms/a.b/ws`, owner.token), { status: 400, code: 'VALIDATION_FAILED' });

  const viaProtocol = await Client.open(`${edge.url}/v1/rooms/${privateRoom}/ws`, owner.token, { via: 'protocol' });
  defer(() => viaProtocol.close());
  assert.equal(viaProtocol.ws.protocol, 'parley.v1', 'the token subprotocol is never echoed');
  const h = await viaProtocol.next((f) => f.type === 'history');
  assert.deepEqual(h['messages'], []);

  // A plain GET on the WebSocket path is told to upgrade; other paths are not found.
  const plain = await fetch(`${edge.http}/v1/rooms/${privateRoom}/ws`, { headers: { authorization: `Bearer ${owner.token}` } });
  assert.equal(plain.status, 426);
  assert.equal(plain.headers.get('upgrade'), 'websocket');
  assert.equal(((await plain.json()) as { error: { code: string } }).error.code, 'UPGRADE_REQUIRED');
  const lost = await fetch(`${edge.http}/v1/nowhere`);
  assert.equal(lost.status, 404);
  assert.match(((await lost.json()) as { error: { message: string } }).error.message, /WebSockets live at/);
});

test('join rate limit answers 429 with retry-after', async (t) => {
  const defer = deferrer(t);
  const s = await startStack(defer);
  // Windows are fixed and aligned to the clock: a long one, so the joins never straddle two.
  const edge = await s.startEdge({ REALTIME_JOINS_PER_USER: '2', REALTIME_RATE_WINDOW_S: '600' });
  const owner = await newUser(s.users.http);
  const room = await s.newRoom(owner);
  const url = `${edge.url}/v1/rooms/${room}/ws`;
  for (let i = 0; i < 2; i++) (await Client.open(url, owner.token)).close();
  await assert.rejects(Client.open(url, owner.token), (e: { status: number }) => e.status === 429);
});

test('send is acked after JetStream stored it; two edges see the same messages in the same order; one NATS subscription per room', async (t) => {
  const defer = deferrer(t);
  const s = await startStack(defer);
  const [a, b] = [await s.startEdge(), await s.startEdge()];
  const [alice, bob] = [await newUser(s.users.http), await newUser(s.users.http)];
  const room = await s.newRoom(alice, [bob]);
  const onA = await Promise.all([0, 1, 2].map(() => Client.open(`${a.url}/v1/rooms/${room}/ws`, alice.token)));
  const onB = await Promise.all([0, 1, 2].map(() => Client.open(`${b.url}/v1/rooms/${room}/ws`, bob.token)));
  const all = [...onA, ...onB];
  defer(() => all.forEach((c) => c.close()));
  await Promise.all(all.map((c) => c.next((f) => f.type === 'history')));

  const stats = (await (await fetch(`${a.http}/stats`)).json()) as Record<string, number>;
  assert.equal(stats.connections, 3);
  assert.equal(stats.rooms, 1);
  assert.equal(stats.nats_subscriptions, 1, 'one message consumer for three sockets');

  const acks: string[] = [];
  await Promise.all(
    Array.from({ length: 20 }, async (_, i) => {
      const sender = i % 2 === 0 ? onA[i % 3]! : onB[i % 3]!;
      acks.push(await sendAndAck(sender, `c-${i}`, `hello ${i}`));
    }),
  );
  const stored = await s.streamed(room);
  assert.deepEqual(new Set(stored.map((e) => e.id)), new Set(acks), 'every ack names a stored message');
  await eventually(async () => all.every((c) => c.messages().length === 20));
  const order = stored.map((e) => e.id);
  for (const c of all) assert.deepEqual(c.messages().map((m) => m['id']), order, 'every socket sees stream order');
  const first = onA[0]!.messages()[0]!;
  assert.equal(typeof first['sender_name'], 'string');
});

test('a retried client_msg_id is stored once and acked with the original id, from either edge', async (t) => {
  const defer = deferrer(t);
  const s = await startStack(defer);
  const [a, b] = [await s.startEdge(), await s.startEdge()];
  const alice = await newUser(s.users.http);
  const room = await s.newRoom(alice);
  const c1 = await Client.open(`${a.url}/v1/rooms/${room}/ws`, alice.token);
  const c2 = await Client.open(`${b.url}/v1/rooms/${room}/ws`, alice.token);
  defer(() => [c1, c2].forEach((c) => c.close()));
  const id1 = await sendAndAck(c1, 'retry-me', 'once');
  const id2 = await sendAndAck(c1, 'retry-me', 'once');
  const id3 = await sendAndAck(c2, 'retry-me', 'once (after reconnecting elsewhere)');
  assert.equal(id2, id1);
  assert.equal(id3, id1);
  assert.equal((await s.streamed(room)).length, 1);
  await eventually(async () => c1.messages().length === 1);
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(c1.messages().length, 1, 'the duplicate is never fanned out');
});
