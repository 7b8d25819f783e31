import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { deferrer, eventually } from '@parley/test-support';
import { Client, call, newUser, sendAndAck, startStack } from '@parley/test-support/realtime-svc';
import { resumeFloor } from '../src/join.js';

/** An edge, a room of alice (sending, connected) and bob, and `n` messages alice sent into it. */
async function roomWithMessages(t: TestContext, n: number) {
  const defer = deferrer(t);
  const s = await startStack(defer);
  const edge = await s.startEdge({ REALTIME_SENDS_PER_USER: '1000' });
  const [alice, bob] = [await newUser(s.users.http), await newUser(s.users.http)];
  const room = await s.newRoom(alice, [bob]);
  const sender = await Client.open(`${edge.url}/v1/rooms/${room}/ws`, alice.token);
  defer(() => sender.close());
  for (let i = 0; i < n; i++) await sendAndAck(sender, `pre-${i}`, `before ${i}`);
  return { defer, s, edge, bob, room, sender };
}

test('join race: messages sent while clients join arrive exactly once, in order, with a lagging store', async (t) => {
  const { defer, s, edge, bob, room, sender } = await roomWithMessages(t, 10);
  // The store has only the first five: the rest must come from the stream tail.
  s.fake!.store((await s.streamed(room)).slice(0, 5));

  const joiners: Client[] = [];
  const sending = (async () => {
    for (let i = 0; i < 40; i++) await sendAndAck(sender, `during-${i}`, `during ${i}`);
  })();
  for (let i = 0; i < 8; i++) {
    joiners.push(await Client.open(`${edge.url}/v1/rooms/${room}/ws`, bob.token));
    await new Promise((r) => setTimeout(r, 15));
  }
  defer(() => joiners.forEach((c) => c.close()));
  await sending;
  const all = (await s.streamed(room)).map((e) => e.id);
  assert.equal(all.length, 50);
  for (const c of joiners) {
    await eventually(async () => c.seenIds().at(-1) === all.at(-1));
    const seen = c.seenIds();
    assert.equal(new Set(seen).size, seen.length, 'no duplicates');
    assert.deepEqual(seen, all.slice(all.length - seen.length), 'a contiguous, ordered tail of the room');
    assert.ok(seen.length >= 40, 'history covered everything sent before the join');
  }
});

test('a store with holes below its newest row: the join fills them from the stream', async (t) => {
  const { defer, s, edge, bob, room } = await roomWithMessages(t, 12);
  const all = await s.streamed(room);
  // A chunk written out of id order: the store already shows the newest rows but not #3 and #7.
  s.fake!.store(all.filter((_, i) => i !== 3 && i !== 7));

  const fresh = await Client.open(`${edge.url}/v1/rooms/${room}/ws`, bob.token);
  defer(() => fresh.close());
  await fresh.next((f) => f.type === 'history');
  assert.deepEqual(fresh.historyIds(), all.map((e) => e.id), 'a fresh join sees every id, holes filled');

  const resumed = await Client.open(`${edge.url}/v1/rooms/${room}/ws`, bob.token, { lastId: all[1]!.id });
  defer(() => resumed.close());
  await resumed.next((f) => f.type === 'history');
  const got = new Set(resumed.historyIds());
  assert.ok(all.slice(2).every((e) => got.has(e.id)), 'a resume sees every id after last_id, holes filled');
});

test('resume with last_id gets exactly what was missed; history unavailable still gives live frames', async (t) => {
  const defer = deferrer(t);
  const s = await startStack(defer);
  const edge = await s.startEdge();
  const [alice, bob] = [await newUser(s.users.http), await newUser(s.users.http)];
  const room = await s.newRoom(alice, [bob]);
  const a = await Client.open(`${edge.url}/v1/rooms/${room}/ws`, alice.token);
  defer(() => a.close());
  const ids: string[] = [];
  for (let i = 0; i < 5; i++) ids.push(await sendAndAck(a, `m-${i}`, `m ${i}`));
  s.fake!.store(await s.streamed(room));
  for (let i = 5; i < 8; i++) ids.push(await sendAndAck(a, `m-${i}`, `m ${i}`));

  const resumed = await Client.open(`${edge.url}/v1/rooms/${room}/ws`, bob.token, { lastId: ids[2] });
  defer(() => resumed.close());
  await resumed.next((f) => f.type === 'history');
  // A resume may repeat the few seconds before last_id (see resumeFloor); nothing else repeats.
  const had = new Set(ids.slice(0, 3));
  const got = resumed.historyIds();
  assert.deepEqual(got.filter((id) => !had.has(id)), ids.slice(3), 'from the store and the stream tail, everything after last_id');
  assert.ok(got.every((id) => !had.has(id) || BigInt(id) > resumeFloor(BigInt(ids[2]!))), 'repeats stay inside the overlap window');

  s.fake!.setDown(true);
  const blind = await Client.open(`${edge.url}/v1/rooms/${room}/ws`, bob.token);
  defer(() => blind.close());
  const f = await blind.next((x) => x.type === 'history_unavailable');
  assert.equal(f['code'], 'DEPENDENCY_UNAVAILABLE');
  const live = await sendAndAck(a, 'after', 'live still works');
  await blind.next((x) => x.type === 'message' && (x['message'] as { id: string }).id === live);
});

test('bad frames get their documented answer, abusers are closed, others keep being served', async (t) => {
  const defer = deferrer(t);
  const s = await startStack(defer);
  const edge = await s.startEdge({ REALTIME_MAX_STRIKES: '11', REALTIME_SENDS_PER_USER: '3', MESSAGE_MAX_BODY_BYTES: '100' });
  const [alice, bob, carol] = [await newUser(s.users.http), await newUser(s.users.http), await newUser(s.users.http)];
  const room = await s.newRoom(alice, [bob, carol]);
  const url = `${edge.url}/v1/rooms/${room}/ws`;
  const bad = await Client.open(url, alice.token);
  const good = await Client.open(url, bob.token);
  defer(() => [bad, good].forEach((c) => c.close()));
  await bad.next((f) => f.type === 'history');
  const expect = async (frame: unknown, code: string, binary = false) => {
    const from = bad.frames.length;
    if (binary) bad.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    else bad.send(frame);
    const got = await bad.next((f) => f.type === 'error', 5000, from);
    assert.equal(got['code'], code, `answer to ${JSON.stringify(frame)}`);
  };
  await expect(null, 'binary_not_supported', true);
  await expect('{not json', 'invalid_json');
  await expect('[1,2]', 'invalid_frame');
  await expect({ type: 'shout' }, 'unknown_type');
  await expect({ type: 'send', client_msg_id: 'has space', body: 'x' }, 'invalid_client_msg_id');
  await expect({ type: 'send', client_msg_id: 'e1', body: '   ' }, 'body_empty');
  await expect({ type: 'send', client_msg_id: 'e2', body: 'x'.repeat(101) }, 'body_too_large');
  await expect({ type: 'send', client_msg_id: 'e4', body: '\u0000\u0000' }, 'body_empty');
  await expect({ type: 'send', client_msg_id: 'e5', body: '\u200b\u200c\u200d\u2060' }, 'body_empty');
  const from = good.frames.length;
  good.send({ type: 'ping' });
  await good.next((f) => f.type === 'pong', 5000, from);
  await expect({ type: 'send', client_msg_id: 'e3', body: 'x', extra: 1 }, 'invalid_frame');
  await expect({ type: 'ping', extra: 1 }, 'invalid_frame');
  assert.equal((await bad.waitClosed()).code, 4400, 'the eleventh strike closes with 4400');

  // Invalid UTF-8 in a text frame (written raw: a masked FIN text frame, zero mask, bytes C3 28).
  const raw = await Client.open(url, carol.token);
  await raw.next((f) => f.type === 'history');
  (raw.ws as unknown as { _socket: { write(b: Buffer): void } })._socket.write(Buffer.from([0x81, 0x82, 0, 0, 0, 0, 0xc3, 0x28]));
  const answer = await eventually(async () => raw.closed ?? raw.frames.find((f) => f.type === 'error'));
  // uWebSockets.js validates UTF-8 itself and drops the connection without a close frame.
  if ('code' in answer && typeof answer.code === 'number') assert.ok([1006, 1007].includes(answer.code));
  else assert.equal((answer as unknown as { code: string }).code, 'invalid_json');
  raw.close();

  // A flood: rate-limited sends answer rate_limited, too many close with 4429.
  const flood = await Client.open(url, carol.token);
  for (let i = 0; i < 20; i++) flood.send({ type: 'send', client_msg_id: `f-${i}`, body: 'spam' });
  await flood.next((f) => f.type === 'error' && f['code'] === 'rate_limited');
  assert.equal((await flood.waitClosed()).code, 4429);

  // An oversize frame (beyond REALTIME_MAX_FRAME_BYTES): uWebSockets.js drops the connection.
  const huge = await Client.open(url, bob.token);
  huge.send('x'.repeat(20_000));
  assert.ok([1006, 1009].includes((await huge.waitClosed()).code));

  assert.ok(good.closed === undefined);
  const id = await sendAndAck(good, 'still-fine', 'the server kept serving');
  await good.next((f) => f.type === 'message' && (f['message'] as { id: string }).id === id);
});

test('room deleted: members get room_deleted and 4404; a removed member is closed with 4403', async (t) => {
  const defer = deferrer(t);
  const s = await startStack(defer);
  const edge = await s.startEdge();
  const [owner, bob] = [await newUser(s.users.http), await newUser(s.users.http)];
  const room = await s.newRoom(owner, [bob]);
  const o = await Client.open(`${edge.url}/v1/rooms/${room}/ws`, owner.token);
  const b = await Client.open(`${edge.url}/v1/rooms/${room}/ws`, bob.token);
  await Promise.all([o, b].map((c) => c.next((f) => f.type === 'history')));
  assert.equal((await call(s.rooms.http, 'DELETE', `/v1/rooms/${room}/members/${bob.id}`, { token: owner.token })).status, 204);
  assert.equal((await b.waitClosed()).code, 4403);
  assert.equal(o.closed, undefined);
  assert.equal((await call(s.rooms.http, 'DELETE', `/v1/rooms/${room}`, { token: owner.token })).status, 204);
  await o.next((f) => f.type === 'room_deleted');
  assert.equal((await o.waitClosed()).code, 4404);
});

test('a slow client is closed with 4008; shutdown tells clients 1012', async (t) => {
  const defer = deferrer(t);
  const s = await startStack(defer);
  const edge = await s.startEdge({
    REALTIME_MAX_BACKPRESSURE: '65536',
    REALTIME_SENDS_PER_USER: '100000',
    REALTIME_SENDS_PER_IP: '100000',
    MESSAGE_MAX_BODY_BYTES: '50000',
    REALTIME_MAX_FRAME_BYTES: '131072',
  });
  const [alice, bob] = [await newUser(s.users.http), await newUser(s.users.http)];
  const room = await s.newRoom(alice, [bob]);
  const fast = await Client.open(`${edge.url}/v1/rooms/${room}/ws`, alice.token);
  const slow = await Client.open(`${edge.url}/v1/rooms/${room}/ws`, bob.token);
  await slow.next((f) => f.type === 'history');
  // Stop reading: the kernel buffers fill, then the edge's buffer for this socket.
  (slow.ws as unknown as { _socket: { pause(): void } })._socket.pause();
  const body = 'y'.repeat(50_000);
  for (let i = 0; i < 400 && slow.closed === undefined; i++) {
    await sendAndAck(fast, `big-${i}`, body);
    const stats = (await (await fetch(`${edge.http}/stats`)).json()) as { connections: number };
    if (stats.connections === 1) break;
  }
  await eventually(async () => ((await (await fetch(`${edge.http}/stats`)).json()) as { connections: number }).connections === 1);
  (slow.ws as unknown as { _socket: { resume(): void } })._socket.resume();
  // The 4008 close frame queues behind the backlog the client is not reading; if uWS's own
  // limit or close timeout cuts the connection first, the client sees 1006. Both mean: resume.
  assert.ok([4008, 1006].includes((await slow.waitClosed()).code));

  await edge.stop();
  assert.equal((await fast.waitClosed()).code, 1012);
});
