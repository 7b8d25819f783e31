/**
 * Who is here and what is read, through the SDK on the whole system (e2e/system.ts): RoomSocket's
 * presence set and diffs, typing, markRead with the edge's `unread` and `receipts` answers, and
 * RestClient's readers, unread counts, read marks (forward only), direct rooms and the edge's
 * presence routes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { deferrer, eventually } from '@parley/test-support';
import { startSystem, type Member } from '../../../e2e/system.js';
import { ApiError, RestClient, RoomSocket, type RoomSocketEvents } from '../src/index.js';

function socketOf(defer: ReturnType<typeof deferrer>, url: string, roomId: string, who: Member) {
  const socket = new RoomSocket({ roomId, url, token: who.token, tokenVia: 'header', WebSocket, selfId: who.user.id });
  defer(() => socket.stop());
  const seen = { message: [] as Array<RoomSocketEvents['message']>, typing: [] as Array<RoomSocketEvents['typing']>, receipts: [] as Array<RoomSocketEvents['receipts']>, unread: [] as Array<RoomSocketEvents['unread']>, presence_diff: [] as Array<RoomSocketEvents['presence_diff']> };
  socket.on('message', (v) => void seen.message.push(v));
  socket.on('typing', (v) => void seen.typing.push(v));
  socket.on('receipts', (v) => void seen.receipts.push(v));
  socket.on('unread', (v) => void seen.unread.push(v));
  socket.on('presence_diff', (v) => void seen.presence_diff.push(v));
  socket.start();
  const until = <T>(fn: () => T | undefined | false) => eventually(async () => fn(), 30_000, 20);
  return { socket, seen, until };
}

test('presence, typing, read marks, unread counts and direct rooms through the SDK', { timeout: 240_000 }, async (t) => {
  const defer = deferrer(t);
  const sys = await startSystem();
  defer(() => sys.stop());
  const edge = sys.urls.edges[0]!;
  const [alice, bob] = await Promise.all([sys.signUp(), sys.signUp()]);
  const room = (await alice.rest.createRoom('awareness', 'public')).id;
  await bob.rest.joinRoom(room);

  const a = socketOf(defer, edge, room, alice);
  await a.until(() => a.socket.online.some((m) => m.user_id === alice.user.id));
  const b = socketOf(defer, edge, room, bob);
  await a.until(() => a.seen.presence_diff.some((d) => d.joined.some((m) => m.user_id === bob.user.id)));
  await b.until(() => b.socket.online.length === 2);
  assert.deepEqual(a.socket.online.map((m) => m.user_id), [alice.user.id, bob.user.id], 'longest online first');

  assert.equal(b.socket.typing(), true);
  assert.equal(b.socket.typing(), false, 'throttled by the SDK');
  const typing = await a.until(() => a.seen.typing[0]);
  assert.equal(typing.userId, bob.user.id);

  a.socket.send('one');
  a.socket.send(`two for @${bob.user.username}`);
  const last = await b.until(() => (b.seen.message.length === 2 ? b.seen.message[1] : undefined));
  assert.deepEqual(last.mentions, [bob.user.id]);
  const answered = b.seen.unread.length;
  assert.equal(b.socket.markRead(last.id), true);
  assert.equal(b.socket.markRead(b.seen.message[0]!.id), false, 'an older mark is not written');
  // The answer to this mark (the first `unread` came with the join); the SDK writes it again while the store has not caught up.
  await b.until(() => b.seen.unread.slice(answered).some((u) => u.roomId === room && u.messages === 0 && u.mentions === 0));
  await a.until(() => a.seen.receipts.some((r) => r.items.some((i) => i.user_id === bob.user.id && i.message_id === last.id)));
  assert.deepEqual(await alice.rest.readers(room, last.id), { message_id: last.id, count: 1, readers: [bob.user.id] });
  const older = await bob.rest.markRead(room, b.seen.message[0]!.id);
  assert.equal(older.read_up_to, last.id, 'a mark never moves back');

  // Away: what alice writes is unread for bob, counted by chat-query-svc.
  b.socket.stop();
  await a.until(() => a.seen.presence_diff.some((d) => d.left.some((m) => m.user_id === bob.user.id)));
  a.socket.send(`three for @${bob.user.username}`);
  await eventually(async () => {
    const r = (await bob.rest.unread()).rooms.find((x) => x.room_id === room);
    return r?.messages === 1 && r.mentions === 1 && r.read_up_to === last.id;
  }, 30_000, 300);

  // The edge's own REST: a room's online members, and one's own status only.
  const realtime = edge.replace(/^ws/, 'http');
  const edgeRest = (who: Member) => new RestClient({ endpoints: { ...sys.endpoints, realtime }, token: who.token });
  assert.deepEqual((await edgeRest(alice).roomPresence(room)).map((m) => m.user_id), [alice.user.id]);
  assert.equal((await edgeRest(alice).userPresence(alice.user.id)).status, 'online');
  const bobStatus = await edgeRest(bob).userPresence(bob.user.id);
  assert.equal(bobStatus.status, 'offline');
  assert.equal(typeof bobStatus.last_seen, 'number');
  await assert.rejects(edgeRest(bob).userPresence(alice.user.id), (e: unknown) => e instanceof ApiError && e.status === 403);

  // Direct rooms: one per pair, from either side; never with oneself.
  const dm = await alice.rest.directRoom(bob.user.id);
  assert.equal(dm.visibility, 'direct');
  assert.equal((await alice.rest.directRoom(bob.user.id)).id, dm.id);
  assert.equal((await bob.rest.directRoom(alice.user.id.toUpperCase())).id, dm.id);
  await assert.rejects(alice.rest.directRoom(alice.user.id), (e: unknown) => e instanceof ApiError && e.status === 400);
  await assert.rejects(alice.rest.directRoom('bob'), (e: unknown) => e instanceof ApiError && e.code === 'INVALID_ARGUMENT');
});
