import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bucketOf, Snowflake } from '@parley/envelope';
import { readPage, type Direction, type PartitionReader, type StoredMessage } from '../src/bucket-walk.js';

const DAY = 24 * 3600 * 1000;
const BUCKET = 10 * DAY;
const NOW = Date.UTC(2025, 5, 5);

/** An in-memory table with the CQL layout; counts the partitions it was asked for. */
function fakeTable(times: number[]) {
  let clock = 0;
  const gen = new Snowflake({ instance: 1, now: () => clock });
  const rows: StoredMessage[] = times.map((at) => {
    clock = at;
    const id = gen.next().toString();
    return { v: 1, id, room_id: 'r', sender_id: 'u', sender_name: 'U', body: String(at), client_msg_id: 'c', kind: 'message', created_at: at };
  });
  const reads: number[] = [];
  const reader: PartitionReader = {
    async read(roomId: string, bucket: number, dir: Direction, bound: bigint, limit: number) {
      reads.push(bucket);
      const inPart = rows.filter((r) => r.room_id === roomId && bucketOf(BigInt(r.id), BUCKET) === bucket);
      const id = (r: StoredMessage) => BigInt(r.id);
      const sel = dir === 'older' ? inPart.filter((r) => id(r) < bound).sort((a, b) => (id(a) > id(b) ? -1 : 1)) : inPart.filter((r) => id(r) > bound).sort((a, b) => (id(a) < id(b) ? -1 : 1));
      return sel.slice(0, limit);
    },
  };
  return { rows, reader, reads };
}

const bounds = (createdDaysAgo: number) => ({ roomCreatedAtMs: NOW - createdDaysAgo * DAY, nowMs: NOW, skewMs: 60_000, bucketMs: BUCKET });

test('latest page comes from the newest buckets, oldest to newest, with has_more', async () => {
  const t = fakeTable([NOW - 35 * DAY, NOW - 34 * DAY, NOW - 3 * DAY, NOW - 2 * DAY, NOW - DAY]);
  const page = await readPage(t.reader, { roomId: 'r', limit: 4 }, bounds(40));
  assert.deepEqual(page.messages.map((m) => m.id), t.rows.slice(1).map((r) => r.id));
  assert.equal(page.hasMore, true);
  const all = await readPage(t.reader, { roomId: 'r', limit: 5 }, bounds(40));
  assert.equal(all.hasMore, false);
});

test('before and after pages cross empty buckets and stop at the room bounds', async () => {
  const t = fakeTable([NOW - 95 * DAY, NOW - 94 * DAY, NOW - 5 * DAY]);
  const before = await readPage(t.reader, { roomId: 'r', limit: 10, beforeId: BigInt(t.rows[2]!.id) }, bounds(100));
  assert.deepEqual(before.messages.map((m) => m.id), [t.rows[0]!.id, t.rows[1]!.id]);
  assert.equal(before.hasMore, false);
  const after = await readPage(t.reader, { roomId: 'r', limit: 1, afterId: BigInt(t.rows[0]!.id) }, bounds(100));
  assert.deepEqual(after.messages.map((m) => m.id), [t.rows[1]!.id]);
  assert.equal(after.hasMore, true);
  const lowest = bucketOf(BigInt(0), BUCKET);
  assert.ok(t.reads.every((b) => b >= Math.floor((NOW - 100 * DAY - 60_000) / BUCKET) && b > lowest));
});

test('an empty room reads each bucket from creation to now once, and no more', async () => {
  const t = fakeTable([]);
  const page = await readPage(t.reader, { roomId: 'r', limit: 50 }, bounds(100));
  assert.deepEqual(page, { messages: [], hasMore: false });
  const expected = Math.floor((NOW + 60_000) / BUCKET) - Math.floor((NOW - 100 * DAY - 60_000) / BUCKET) + 1;
  assert.equal(t.reads.length, expected);
  assert.equal(new Set(t.reads).size, expected);
});

test('a room created before the id epoch is walked down to the epoch only', async () => {
  const t = fakeTable([]);
  await readPage(t.reader, { roomId: 'r', limit: 50 }, { ...bounds(0), roomCreatedAtMs: 0 });
  assert.ok(Math.min(...t.reads) >= Math.floor(Date.UTC(2024, 0, 1) / BUCKET));
});

test('a fast page stops after the first bucket that fills it', async () => {
  const t = fakeTable(Array.from({ length: 30 }, (_, i) => NOW - 60 * DAY + i * 2 * DAY));
  // The bucket holding now + skew has messages, so one read answers the page.
  assert.equal(bucketOf(BigInt(t.rows.at(-1)!.id), BUCKET), Math.floor((NOW + 60_000) / BUCKET));
  await readPage(t.reader, { roomId: 'r', limit: 1 }, bounds(365));
  assert.equal(t.reads.length, 1);
});
