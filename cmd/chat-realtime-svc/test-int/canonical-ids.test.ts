import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deferrer } from '@parley/test-support';
import { Client, call, newUser, sendAndAck, startStack } from '@parley/test-support/realtime-svc';

test('the edge folds a room id in any case to its one spelling: fanout, stream, removal and deletion all reach it', async (t) => {
  const defer = deferrer(t);
  const s = await startStack(defer);
  const edge = await s.startEdge();
  const [owner, bob, carol] = [await newUser(s.users.http), await newUser(s.users.http), await newUser(s.users.http)];
  const room = await s.newRoom(owner, [bob, carol]);
  const upper = room.toUpperCase();
  const mixed = room.replace(/[a-f]/g, (c, i: number) => (i % 2 ? c.toUpperCase() : c));

  const plain = await Client.open(`${edge.url}/v1/rooms/${room}/ws`, owner.token);
  const shouting = await Client.open(`${edge.url}/v1/rooms/${upper}/ws`, bob.token);
  const mixing = await Client.open(`${edge.url}/v1/rooms/${mixed}/ws`, carol.token);
  defer(() => [plain, shouting, mixing].forEach((c) => c.close()));
  await Promise.all([plain, shouting, mixing].map((c) => c.next((f) => f.type === 'history')));

  const fromUpper = await sendAndAck(shouting, 'u-1', 'sent through the upper-case path');
  const fromMixed = await sendAndAck(mixing, 'm-1', 'sent through the mixed-case path');
  for (const c of [plain, shouting, mixing]) {
    for (const id of [fromUpper, fromMixed]) await c.next((f) => f.type === 'message' && (f['message'] as { id: string }).id === id);
  }
  const stored = await s.streamed(room);
  assert.deepEqual(stored.map((e) => e.id).sort(), [fromUpper, fromMixed].sort(), 'published on the canonical subject');
  assert.ok(stored.every((e) => e.room_id === room), 'the envelope (and so the Kafka key and the stores) carries the canonical id');
  assert.ok(shouting.messages().every((m) => m['room_id'] === room));

  // Room events name the canonical id; they must reach sockets opened under another spelling.
  assert.equal((await call(s.rooms.http, 'DELETE', `/v1/rooms/${room}/members/${bob.id}`, { token: owner.token })).status, 204);
  assert.equal((await shouting.waitClosed()).code, 4403, 'a removed member on the upper-case path is closed');
  assert.equal((await call(s.rooms.http, 'DELETE', `/v1/rooms/${room}`, { token: owner.token })).status, 204);
  assert.equal((await mixing.waitClosed()).code, 4404, 'a socket on the mixed-case path is closed when the room is deleted');
  assert.equal((await plain.waitClosed()).code, 4404);
});

test('the edge refuses room ids in other notations before the upgrade (400), whoever asks', async (t) => {
  const defer = deferrer(t);
  const s = await startStack(defer);
  const edge = await s.startEdge();
  const owner = await newUser(s.users.http);
  const room = await s.newRoom(owner);
  for (const spelled of [`{${room}}`, `urn:uuid:${room}`, room.replaceAll('-', ''), `${room}x`, 'r-1']) {
    await assert.rejects(Client.open(`${edge.url}/v1/rooms/${encodeURIComponent(spelled)}/ws`, owner.token), (e: { status: number; body: { error: { message: string } } }) => {
      assert.equal(e.status, 400, spelled);
      assert.match(e.body.error.message, /UUID/);
      return true;
    });
  }
});
