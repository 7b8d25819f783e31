/**
 * The SDK's side of messages that change, against the whole system (e2e/system.ts: every
 * service its own process on the real servers, so `message_updated` comes from the CQL worker
 * through NATS as in production): RoomSocket's edit, react, reply and delete, their refusals, a
 * change made while a client is away, an edit whose ack was lost, and RestClient's one message,
 * versions, thread and mentions.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { deferrer, eventually } from '@parley/test-support';
import { startSystem, type Member } from '../../../e2e/system.js';
import { CommandError, RoomSocket, isNewerCopy, type Message, type WebSocketConstructor } from '../src/index.js';
import { lossyWebSocket } from './lossy-web-socket.js';

/** A RoomSocket that keeps the room's messages by id, newest copy of each, as a client shows them. */
function client(defer: ReturnType<typeof deferrer>, url: string, roomId: string, who: Member, WebSocketCtor: WebSocketConstructor = WebSocket) {
  let n = 0;
  const prefix = `t${who.user.id.slice(0, 8)}`;
  const ids = { last: '' };
  const socket = new RoomSocket({
    roomId,
    url,
    token: who.token,
    tokenVia: 'header',
    WebSocket: WebSocketCtor,
    selfId: who.user.id,
    backoff: { initialMs: 1500, maxMs: 1500, jitter: 0 },
    newClientMsgId: () => (ids.last = `${prefix}${Date.now().toString(36)}${n++}`),
  });
  defer(() => socket.stop());
  const shown = new Map<string, Message>();
  const updates: Message[] = [];
  const keep = (m: Message) => {
    const known = shown.get(m.id);
    if (!known || isNewerCopy(known, m)) shown.set(m.id, m);
  };
  socket.on('history', (h) => h.messages.forEach(keep));
  socket.on('message', keep);
  socket.on('message_updated', (m) => {
    updates.push(m);
    keep(m);
  });
  socket.start();
  const live = () => eventually(async () => socket.state === 'live', 20_000, 20);
  /** The shown copy of `id` once it satisfies `pred`. */
  const sees = (id: string, pred: (m: Message) => boolean) => eventually(async () => {
    const m = shown.get(id);
    return m && pred(m) ? m : undefined;
  }, 30_000, 20);
  return { socket, shown, updates, live, sees, ids };
}

test('RoomSocket and RestClient with messages that change, on the whole system', { timeout: 300_000 }, async (t) => {
  const defer = deferrer(t);
  const sys = await startSystem();
  defer(() => sys.stop());
  const [alice, bob] = await Promise.all([sys.signUp(), sys.signUp()]);
  const room = (await alice.rest.createRoom('changes', 'public')).id;
  await bob.rest.joinRoom(room);
  const edge = sys.urls.edges[0]!;
  const lossy = lossyWebSocket();
  const a = client(defer, edge, room, alice);
  const b = client(defer, edge, room, bob, lossy.Ctor);
  await Promise.all([a.live(), b.live()]);

  const first = await a.socket.whenSettled(a.socket.send(`hello @${bob.user.username}`));
  const mention = await b.sees(first, () => true);
  assert.deepEqual(mention.mentions, [bob.user.id], '@username resolved by the edge');

  await t.test('edit: the author only; every client shows the new state', async () => {
    const refused = await b.socket.edit(first, 'not mine').catch((e: unknown) => e);
    assert.ok(refused instanceof CommandError);
    assert.equal(refused.code, 'not_author');
    assert.match(await a.socket.edit(first, 'hello, edited'), /^\d+$/);
    const seen = await b.sees(first, (m) => m.version === 2);
    assert.equal(seen.body, 'hello, edited');
    assert.ok(seen.edited_at !== undefined);
    await a.sees(first, (m) => m.version === 2);
  });

  await t.test('react: counts live, `me` is each reader\'s own', async () => {
    await Promise.all([a.socket.react(first, '👍', true), b.socket.react(first, '👍', true), b.socket.react(first, '🎉', true)]);
    const forB = await b.sees(first, (m) => m.reactions?.find((r) => r.emoji === '👍')?.count === 2 && m.reactions.length === 2);
    assert.deepEqual(forB.reactions?.find((r) => r.emoji === '🎉'), { emoji: '🎉', count: 1, me: true });
    const forA = await a.sees(first, (m) => m.reactions?.length === 2);
    assert.deepEqual(forA.reactions?.find((r) => r.emoji === '🎉'), { emoji: '🎉', count: 1, me: false });
    await b.socket.react(first, '🎉', false);
    await a.sees(first, (m) => m.reactions?.length === 1);
  });

  await t.test('a change made while a client is away reaches it on its resume', async () => {
    lossy.cut();
    await eventually(async () => b.socket.state === 'reconnecting', 10_000, 10);
    await a.socket.edit(first, 'edited while bob was away');
    const seen = await b.sees(first, (m) => m.version === 3);
    assert.equal(seen.body, 'edited while bob was away');
  });

  await t.test('an edit whose ack was lost goes out again after the reconnect and counts once', async () => {
    const own = await b.socket.whenSettled(b.socket.send('bob writes'));
    const edited = b.socket.edit(own, 'bob rewrites');
    lossy.dropAckOf = b.ids.last;
    assert.match(await edited, /^\d+$/);
    assert.ok(lossy.droppedAckId, 'the first ack was dropped with its connection');
    assert.equal(await edited, lossy.droppedAckId, 'the resend is answered with the first event\'s id');
    const seen = await a.sees(own, (m) => m.body === 'bob rewrites');
    assert.equal(seen.version, 2, 'one edit, not two');
  });

  let reply = '';
  await t.test('reply: the parent counts it; the thread pages; versions and one message over REST', async () => {
    reply = await b.socket.whenSettled(b.socket.send('a reply', { replyTo: first }));
    const parent = await a.sees(first, (m) => m.reply_count === 1);
    assert.equal(parent.last_reply_id, reply);
    await b.socket.whenSettled(b.socket.send('another reply', { replyTo: first }));
    await a.sees(first, (m) => m.reply_count === 2); // stored: the thread reads the store
    const page1 = await bob.rest.thread(room, first, { limit: 1 });
    assert.deepEqual([page1.parent.id, page1.messages.map((m) => m.body), page1.has_more], [first, ['a reply'], true]);
    const page2 = await bob.rest.thread(room, first, { limit: 1, afterId: page1.messages[0]!.id });
    assert.deepEqual([page2.messages.map((m) => m.body), page2.has_more], [['another reply'], false]);
    const versions = await bob.rest.versions(room, first);
    assert.deepEqual(versions.versions.map((v) => v.body), [`hello @${bob.user.username}`, 'hello, edited', 'edited while bob was away']);
    const one = await bob.rest.message(room, first);
    assert.deepEqual([one.version, one.reply_count, one.reactions?.[0]?.me], [3, 2, true]);
    const refused = await b.socket.whenSettled(b.socket.send('to nowhere', { replyTo: '1' })).catch((e: CommandError) => e.code);
    assert.equal(refused, 'reply_not_found');
  });

  await t.test('mentions: the caller\'s across rooms, and the mention filter of a room\'s history', async () => {
    const tagged = await a.socket.whenSettled(a.socket.send(`ping @${bob.user.username}, have a look`));
    const mine = await eventually(async () => {
      const page = await bob.rest.mentions({ limit: 10 });
      return page.messages.some((m) => m.id === tagged) ? page : undefined;
    }, 30_000, 200);
    assert.ok(mine.messages.every((m) => m.mentions?.includes(bob.user.id)));
    const filtered = await bob.rest.history(room, { mention: bob.user.id });
    assert.ok(filtered.messages.some((m) => m.id === tagged));
    assert.ok(!filtered.messages.some((m) => m.id === reply), 'a message without the mention is filtered out');
    assert.equal((await alice.rest.mentions()).messages.length, 0, 'nobody mentioned alice');
  });

  await t.test('delete: the author or the owner; a deleted message takes no more changes', async () => {
    const own = await b.socket.whenSettled(b.socket.send('bob\'s, deleted by the owner'));
    assert.equal(await b.socket.delete(first).catch((e: CommandError) => e.code), 'not_allowed');
    await a.socket.delete(own);
    const tomb = await b.sees(own, (m) => m.deleted_at !== undefined);
    assert.equal(tomb.body, '');
    await a.sees(own, (m) => m.deleted_at !== undefined);
    assert.equal(await b.socket.react(own, '👍', true).catch((e: CommandError) => e.code), 'message_deleted');
    assert.equal(await a.socket.edit('9007199254740993', 'x').catch((e: CommandError) => e.code), 'message_not_found');
  });
  assert.ok(a.updates.length > 0 && b.updates.length > 0);
});
