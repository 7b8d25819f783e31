import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ParleyError } from '@parley/errors';
import type { RoomAccess } from '../src/access.js';
import type { PartitionReader, StoredMessage } from '../src/bucket-walk.js';
import { idCursors, latestMessages } from '../src/latest-messages.js';

const NOW = Date.UTC(2025, 5, 5);
const limits = { defaultLimit: 50, maxLimit: 200, skewMs: 60_000, bucketMs: 10 * 24 * 3600 * 1000 };
const isCode = (code: string) => (e: unknown) => e instanceof ParleyError && e.code === code;

function access(refuse?: ParleyError): RoomAccess {
  return {
    authorize: async () => {
      if (refuse) throw refuse;
      return { userId: 'u', role: 'member' };
    },
    identify: async () => ({ userId: 'u' }),
    memberships: async () => [],
    requireMember: async () => {
      if (refuse) throw refuse;
      return { role: 'member' };
    },
    roomCreatedAt: async () => NOW - 1000,
    close: () => undefined,
  };
}

test('idCursors: at most one exclusive snowflake id, empty means absent', () => {
  assert.deepEqual(idCursors(undefined, undefined), { beforeId: undefined, afterId: undefined });
  assert.deepEqual(idCursors('', ''), { beforeId: undefined, afterId: undefined });
  assert.deepEqual(idCursors('42', undefined), { beforeId: 42n, afterId: undefined });
  assert.deepEqual(idCursors(undefined, '9223372036854775807'), { beforeId: undefined, afterId: 9223372036854775807n });
  assert.throws(() => idCursors('1', '2'), /before_id or after_id, not both/);
  for (const bad of ['0', '-1', '1.5', 'abc', '9223372036854775808', ' 1']) {
    assert.throws(() => idCursors(bad, undefined), /before_id must be a message id/, bad);
    assert.throws(() => idCursors(undefined, bad), /after_id must be a message id/, bad);
  }
});

test('latestMessages: a refusal wins over a failed read, and nothing is released without access', async () => {
  const row: StoredMessage = { v: 1, id: '5', room_id: 'r', sender_id: 'u', sender_name: 'U', body: 'b', client_msg_id: 'c', kind: 'message', created_at: NOW };
  const ok: PartitionReader = { read: async (_r, _b, dir) => (dir === 'older' ? [row] : []) };
  const broken: PartitionReader = {
    read: async () => {
      throw new ParleyError('DEPENDENCY_UNAVAILABLE', 'cassandra away');
    },
  };
  const now = () => NOW;
  const page = await latestMessages({ access: access(), reader: ok, limits, now }).list('t', { roomId: 'r', limit: 10 });
  assert.deepEqual(page, { messages: [row], hasMore: false, changed: [], changesTruncated: false });
  const denied = latestMessages({ access: access(new ParleyError('FORBIDDEN', 'not a member')), reader: ok, limits, now });
  await assert.rejects(denied.list('t', { roomId: 'r', limit: 10 }), isCode('FORBIDDEN'));
  const both = latestMessages({ access: access(new ParleyError('NOT_FOUND', 'no room')), reader: broken, limits, now });
  await assert.rejects(both.list('t', { roomId: 'r', limit: 10 }), isCode('NOT_FOUND'));
  const readFails = latestMessages({ access: access(), reader: broken, limits, now });
  await assert.rejects(readFails.list('t', { roomId: 'r', limit: 10 }), isCode('DEPENDENCY_UNAVAILABLE'));
});
