import { test } from 'node:test';
import assert from 'node:assert/strict';
import { status } from '@grpc/grpc-js';
import { bucketOf } from '@parley/envelope';
import { deferrer } from '@parley/test-support';
import { startAll, newUser, call } from '@parley/test-support/query-svc';
import { makeEnvelopes, writeCql } from '@parley/test-support/store-fixtures';

const DAY = 24 * 3600 * 1000;
const ids = (r: { messages: Array<{ id: string }> }) => r.messages.map((m) => m.id);
const isCode = (code: number) => (e: { code: number }) => e.code === code;

test('ListMessages: latest, before and after pages across many buckets, gaps and empty rooms', async (t) => {
  const defer = deferrer(t);
  const q = await startAll(defer);
  const owner = await newUser(q.users.http);
  const member = await newUser(q.users.http);
  const now = Date.now();
  const room = await q.newRoom(owner, new Date(now - 200 * DAY));
  assert.equal((await call(q.rooms.http, 'PUT', `/v1/rooms/${room}/members/${member.id}`, { token: owner.token })).status, 201);

  // 120 messages over 190 days with a 45-day silence in the middle: ~19 buckets, several empty.
  const times = Array.from({ length: 120 }, (_, i) => now - 195 * DAY + i * 1.6 * DAY).map((ms) => (ms > now - 120 * DAY && ms < now - 75 * DAY ? ms - 60 * DAY : ms));
  times.sort((a, b) => a - b);
  const envs = makeEnvelopes(times.map((at, i) => ({ roomId: room, senderId: owner.id, body: `m${i}`, at })));
  const noise = makeEnvelopes(times.map((at) => ({ roomId: '00000000-0000-4000-8000-000000000000', senderId: owner.id, body: 'other room', at: at + 1 })), 9);
  await writeCql(q.cql, q.keyspace, [...envs, ...noise]);
  const all = envs.map((e) => e.id);
  const buckets = new Set(envs.map((e) => bucketOf(BigInt(e.id))));
  assert.ok(buckets.size >= 12, `fixture spans ${buckets.size} buckets`);
  assert.ok(Math.max(...buckets) - Math.min(...buckets) + 1 > buckets.size, 'fixture has empty buckets in between');

  const latest = await q.grpc.list(member.token, { roomId: room });
  assert.deepEqual(ids(latest), all.slice(-50), 'default limit 50, oldest to newest');
  assert.equal(latest.hasMore, true);
  assert.equal(latest.messages[0]!.body, 'm70');
  assert.equal(latest.messages[0]!.senderId, owner.id);
  assert.equal(latest.messages[0]!.createdAt, envs[70]!.created_at);

  // Walking back with before_id visits every message once, across every bucket and gap.
  const back: string[] = [];
  let before = '';
  for (let guard = 0; guard < 50; guard++) {
    const page = await q.grpc.list(member.token, { roomId: room, limit: 7, beforeId: before });
    back.unshift(...ids(page));
    if (!page.hasMore) break;
    before = page.messages[0]!.id;
  }
  assert.deepEqual(back, all);

  // A reconnecting client asks for what it missed after the last id it saw.
  const forward: string[] = [];
  let after = all[3]!;
  for (let guard = 0; guard < 50; guard++) {
    const page = await q.grpc.list(member.token, { roomId: room, limit: 9, afterId: after });
    forward.push(...ids(page));
    if (!page.hasMore) break;
    after = page.messages.at(-1)!.id;
  }
  assert.deepEqual(forward, all.slice(4));
  assert.deepEqual(await q.grpc.list(member.token, { roomId: room, afterId: all.at(-1)! }), { messages: [], hasMore: false, changed: [], changesTruncated: false });
  assert.deepEqual(await q.grpc.list(member.token, { roomId: room, beforeId: all[0]! }), { messages: [], hasMore: false, changed: [], changesTruncated: false });

  const everything = await q.grpc.list(member.token, { roomId: room, limit: 200 });
  assert.deepEqual(ids(everything), all);
  assert.equal(everything.hasMore, false);
  // The first message of a bucket pages back into the previous bucket.
  const edge = all.find((_, i) => i > 0 && bucketOf(BigInt(all[i]!)) !== bucketOf(BigInt(all[i - 1]!)))!;
  const beforeEdge = await q.grpc.list(member.token, { roomId: room, limit: 1, beforeId: edge });
  assert.deepEqual(ids(beforeEdge), [all[all.indexOf(edge) - 1]!]);
});

test('ListMessages: empty rooms answer empty without walking forever', async (t) => {
  const defer = deferrer(t);
  const q = await startAll(defer);
  const owner = await newUser(q.users.http);
  const fresh = await q.newRoom(owner);
  assert.deepEqual(await q.grpc.list(owner.token, { roomId: fresh }), { messages: [], hasMore: false, changed: [], changesTruncated: false });
  // Created two years ago (before the id epoch even): the walk stops at the epoch's bucket.
  const old = await q.newRoom(owner, new Date(Date.now() - 730 * DAY));
  const started = Date.now();
  assert.deepEqual(await q.grpc.list(owner.token, { roomId: old, limit: 200 }), { messages: [], hasMore: false, changed: [], changesTruncated: false });
  assert.deepEqual(await q.grpc.list(owner.token, { roomId: old, afterId: '1' }), { messages: [], hasMore: false, changed: [], changesTruncated: false });
  assert.ok(Date.now() - started < 10_000, 'walk over ~70 empty buckets stays fast');
});

test('ListMessages: session, membership and input are checked', async (t) => {
  const defer = deferrer(t);
  const q = await startAll(defer);
  const owner = await newUser(q.users.http);
  const outsider = await newUser(q.users.http);
  const room = await q.newRoom(owner);
  await assert.rejects(q.grpc.list(undefined, { roomId: room }), isCode(status.UNAUTHENTICATED));
  await assert.rejects(q.grpc.list('not-a-real-token-not-a-real-token-not-a-real', { roomId: room }), isCode(status.UNAUTHENTICATED));
  await assert.rejects(q.grpc.list(outsider.token, { roomId: room }), isCode(status.PERMISSION_DENIED));
  await assert.rejects(q.grpc.list(owner.token, { roomId: '6f1c0d5e-1111-4222-8333-944455556666' }), isCode(status.NOT_FOUND));
  const bad: Array<[string, Record<string, unknown>]> = [
    ['room id', { roomId: 'x; DROP' }],
    ['limit', { roomId: room, limit: 201 }],
    ['limit', { roomId: room, limit: 4_000_000_000 }],
    ['both cursors', { roomId: room, beforeId: '5', afterId: '6' }],
    ['before_id', { roomId: room, beforeId: 'abc' }],
    ['after_id', { roomId: room, afterId: '-5' }],
    ['after_id', { roomId: room, afterId: '99999999999999999999' }],
  ];
  for (const [what, req] of bad) {
    await assert.rejects(q.grpc.list(owner.token, req), (e: { code: number; details: string }) => {
      assert.equal(e.code, status.INVALID_ARGUMENT, what);
      assert.ok(e.details.length > 5, 'a message says what is wrong');
      return true;
    });
  }
});
