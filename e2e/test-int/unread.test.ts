/**
 * Read marks and unread counts on the whole system: a random mix of sends (some mentioning
 * people), deletes and reads by several users in several rooms, then every user's unread counts
 * compared with a model of what they must be; marks that race only move forward; who has read
 * a message; direct rooms. All services run as their own processes (e2e/system.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { Unread } from '@parley/contracts';
import { deferrer, eventually } from '@parley/test-support';
import { Client } from '@parley/test-support/realtime-svc';
import { startSystem, type Member } from '../system.js';

type Frame = Record<string, unknown>;
interface Sent {
  id: string;
  room: string;
  sender: number;
  mentions: number[];
  deleted: boolean;
}

/** A small seeded generator, so a failing mix can be repeated (the seed is printed). */
function prng(seed: number) {
  let x = seed >>> 0 || 1;
  return (n: number) => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) % n;
  };
}

test('unread counts equal a model of sends, mentions, deletes and reads across users and rooms; marks only move forward', { timeout: 300_000 }, async (t) => {
  const defer = deferrer(t);
  const sys = await startSystem({ edges: 2, env: { REALTIME_SENDS_PER_USER: '1000' } });
  defer(() => sys.stop());
  const names = [0, 1, 2].map((i) => `u${i}x${randomBytes(3).toString('hex')}`);
  const users: Member[] = await Promise.all(names.map((n) => sys.signUp(n)));
  const rooms: string[] = [];
  for (let r = 0; r < 3; r++) {
    const room = (await users[0]!.rest.createRoom(`unread ${r}`, 'public')).id;
    for (const u of users.slice(1)) await u.rest.joinRoom(room);
    rooms.push(room);
  }
  const dm = await fetch(`${sys.urls.room}/v1/direct-rooms`, {
    method: 'POST',
    headers: { authorization: `Bearer ${users[1]!.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ user_id: users[2]!.user.id }),
  }).then((r) => r.json() as Promise<{ room: { id: string } }>);
  rooms.push(dm.room.id);
  const membersOf = (room: string) => (room === dm.room.id ? [1, 2] : [0, 1, 2]);

  const sockets = new Map<string, Client>();
  const socket = async (u: number, room: string) => {
    const key = `${u} ${room}`;
    let c = sockets.get(key);
    if (!c) {
      c = await Client.open(`${sys.urls.edges[u % 2]}/v1/rooms/${room}/ws`, users[u]!.token);
      await c.next((f) => f.type === 'history');
      sockets.set(key, c);
      defer(() => c!.close());
    }
    return c;
  };
  let n = 0;
  const command = async (u: number, room: string, frame: Frame): Promise<string> => {
    const c = await socket(u, room);
    const cid = `k${n++}`;
    const from = c.frames.length;
    c.send({ ...frame, client_msg_id: cid });
    const r = await c.next((f) => (f.type === 'ack' || f.type === 'error') && f['client_msg_id'] === cid, 15_000, from);
    assert.equal(r.type, 'ack', JSON.stringify(r));
    return r['id'] as string;
  };
  const stored = (u: number, room: string, id: string) =>
    eventually(async () => ((await users[u]!.rest.latest(room, { limit: 200 })).messages.some((m) => m.id === id) ? true : undefined), 30_000, 100);
  const markRead = async (u: number, room: string, id: string) => {
    const res = await fetch(`${sys.urls.query}/v1/rooms/${room}/read`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${users[u]!.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ message_id: id }),
    });
    assert.equal(res.status, 200, await res.clone().text());
    return ((await res.json()) as { read_up_to: string }).read_up_to;
  };

  const seed = Number(process.env['UNREAD_SEED'] ?? Date.now() % 100_000);
  t.diagnostic(`seed ${seed} (UNREAD_SEED=${seed} repeats this mix)`);
  const rand = prng(seed);
  const sent: Sent[] = [];
  const marks = new Map<string, bigint>();
  for (let step = 0; step < 60; step++) {
    const room = rooms[rand(rooms.length)]!;
    const members = membersOf(room);
    const u = members[rand(members.length)]!;
    const roll = rand(10);
    const mine = sent.filter((m) => m.room === room && m.sender === u && !m.deleted);
    if (roll < 6 || sent.length < 5) {
      const mention = rand(3) === 0 ? members[rand(members.length)]! : undefined;
      const body = `step ${step}${mention === undefined ? '' : ` hey @${names[mention]}`}`;
      const id = await command(u, room, { type: 'send', body });
      sent.push({ id, room, sender: u, mentions: mention === undefined ? [] : [mention], deleted: false });
    } else if (roll < 8 && mine.length > 0) {
      const target = mine[rand(mine.length)]!;
      await command(u, room, { type: 'delete', message_id: target.id });
      target.deleted = true;
    } else {
      const inRoom = sent.filter((m) => m.room === room);
      if (inRoom.length === 0) continue;
      const target = inRoom[rand(inRoom.length)]!;
      await stored(u, room, target.id);
      const now = BigInt(await markRead(u, room, target.id));
      const key = `${u} ${room}`;
      const expected = [marks.get(key) ?? 0n, BigInt(target.id)].reduce((a, b) => (a > b ? a : b));
      assert.equal(now, expected, 'a mark answers the furthest one');
      marks.set(key, expected);
    }
  }

  const model = (u: number): Unread['rooms'] =>
    rooms
      .filter((r) => membersOf(r).includes(u))
      .map((room) => {
        const mark = marks.get(`${u} ${room}`);
        const unread = sent.filter((m) => m.room === room && m.sender !== u && !m.deleted && (mark === undefined || BigInt(m.id) > mark));
        return { room_id: room, read_up_to: mark?.toString() ?? null, messages: unread.length, mentions: unread.filter((m) => m.mentions.includes(u)).length };
      });
  const unreadOf = async (u: number) => {
    const res = await fetch(`${sys.urls.query}/v1/unread`, { headers: { authorization: `Bearer ${users[u]!.token}` } });
    const body = (await res.json()) as Unread;
    return body.rooms.filter((r) => rooms.includes(r.room_id)).sort((a, b) => rooms.indexOf(a.room_id) - rooms.indexOf(b.room_id));
  };
  for (const u of [0, 1, 2]) {
    const want = model(u);
    const got = await eventually(async () => {
      const now = await unreadOf(u);
      return JSON.stringify(now) === JSON.stringify(want) ? now : undefined;
    }, 30_000, 250).catch(async () => unreadOf(u));
    assert.deepEqual(got, want, `user ${u}'s unread counts equal the model`);
  }

  await t.test('racing marks from two edges only move forward', async () => {
    const room = rooms[0]!;
    const ids = await Promise.all([0, 1, 2, 3].map((i) => command(i % 2 ? 1 : 2, room, { type: 'send', body: `race ${i}` })));
    for (const id of ids) await stored(0, room, id);
    const sorted = [...ids].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1));
    await Promise.all([sorted[3]!, sorted[0]!, sorted[2]!, sorted[1]!].map((id) => markRead(0, room, id)));
    assert.equal(await markRead(0, room, sorted[0]!), sorted[3], 'an older mark changes nothing');
    const readers = await fetch(`${sys.urls.query}/v1/rooms/${room}/messages/${sorted[1]}/readers`, { headers: { authorization: `Bearer ${users[1]!.token}` } }).then((r) => r.json() as Promise<{ count: number; readers: string[] }>);
    assert.ok(readers.readers.includes(users[0]!.user.id), 'user 0 has read it');
  });

  await t.test('over the WebSocket: typing reaches the other edge throttled, a read mark comes back as receipts and unread counts', async () => {
    const room = rooms[2]!;
    const a = await Client.open(`${sys.urls.edges[0]}/v1/rooms/${room}/ws`, users[0]!.token);
    const b = await Client.open(`${sys.urls.edges[1]}/v1/rooms/${room}/ws`, users[1]!.token);
    defer(() => [a, b].forEach((c) => c.close()));
    await Promise.all([a.next((f) => f.type === 'history'), b.next((f) => f.type === 'history')]);
    const unreadOnJoin = await b.next((f) => f.type === 'unread');
    assert.equal(unreadOnJoin['messages'], model(1).find((r) => r.room_id === room)!.messages, 'the counts after the join are the model\'s');
    for (let i = 0; i < 50; i++) a.send({ type: 'typing' });
    const typing = await b.next((f) => f.type === 'typing');
    assert.deepEqual(typing, { type: 'typing', user_id: users[0]!.user.id, name: users[0]!.user.display_name });
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(b.frames.filter((f) => f.type === 'typing').length, 1, 'a flood of typing frames is throttled to one');
    assert.equal(a.frames.filter((f) => f.type === 'typing').length, 0, 'nobody is told they type themselves');
    assert.equal(a.closed, undefined, 'typing floods are no strike');

    const id = await command(0, room, { type: 'send', body: 'read me' });
    await stored(1, room, id);
    const from = b.frames.length;
    b.send({ type: 'read', message_id: id });
    const unread = await b.next((f) => f.type === 'unread', 10_000, from);
    assert.equal(unread['messages'], 0, 'nothing unread after reading the newest');
    const receipts = await a.next((f) => f.type === 'receipts' && (f['items'] as Array<{ user_id: string }>).some((x) => x.user_id === users[1]!.user.id));
    assert.deepEqual((receipts['items'] as Array<{ user_id: string; message_id: string }>).find((x) => x.user_id === users[1]!.user.id)?.message_id, id);
    b.send({ type: 'read', message_id: sent.find((m) => m.room === rooms[0])!.id });
    const err = await b.next((f) => f.type === 'error' && f['code'] === 'message_not_found');
    assert.ok(err, 'a message of another room');
    b.send({ type: 'read', message_id: 'x' });
    await b.next((f) => f.type === 'error' && f['code'] === 'invalid_message_id');

    // The same member reading on two edges at once, newest and oldest crossing: the newest stays.
    const later = await Promise.all([0, 1, 2].map((i) => command(0, room, { type: 'send', body: `later ${i}` })));
    for (const l of later) await stored(1, room, l);
    const b2 = await Client.open(`${sys.urls.edges[0]}/v1/rooms/${room}/ws`, users[1]!.token);
    defer(() => b2.close());
    await b2.next((f) => f.type === 'history');
    const [older, , newest] = [...later].sort((x, y) => (BigInt(x) < BigInt(y) ? -1 : 1));
    for (let i = 0; i < 5; i++) {
      b.send({ type: 'read', message_id: i % 2 ? older! : newest! });
      b2.send({ type: 'read', message_id: i % 2 ? newest! : older! });
    }
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(await markRead(1, room, older!), newest, 'racing reads from two edges leave the newest mark');
  });

  await t.test('bad input: a message of another room, not yet stored, malformed, or not a member', async () => {
    const put = (u: number, room: string, body: unknown) =>
      fetch(`${sys.urls.query}/v1/rooms/${room}/read`, { method: 'PUT', headers: { authorization: `Bearer ${users[u]!.token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) }).then((r) => r.status);
    const inOther = sent.find((m) => m.room === rooms[1])!;
    assert.equal(await put(0, rooms[0]!, { message_id: inOther.id }), 404);
    assert.equal(await put(0, rooms[0]!, { message_id: '9000000000000000000' }), 404);
    assert.equal(await put(0, rooms[0]!, { message_id: 'x' }), 400);
    assert.equal(await put(0, rooms[0]!, {}), 400);
    assert.equal(await put(0, dm.room.id, { message_id: inOther.id }), 403, 'not a member of the direct room');
  });
});
