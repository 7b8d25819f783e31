import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Room } from '@parley/client';
import { presenceLines, roomLine, whoLines } from '../src/awareness-lines.js';

const room: Room = { id: 'r1', name: 'lobby', visibility: 'public', owner_id: 'u1', created_at: '2030-01-01T00:00:00.000Z', role: 'member' };
const ada = { user_id: 'u1', name: 'Ada', since: 0 };
const bob = { user_id: 'u2', name: 'Bob', since: 90_000 };

test('/rooms shows unread messages and mentions, and nothing when all is read', () => {
  assert.equal(roomLine(room, { messages: 3, mentions: 1 }), '  r1  lobby  (public, member)  3 unread, 1 mention');
  assert.equal(roomLine(room, { messages: 2, mentions: 0 }), '  r1  lobby  (public, member)  2 unread');
  assert.equal(roomLine(room, { messages: 0, mentions: 0 }), '  r1  lobby  (public, member)');
  assert.equal(roomLine({ ...room, visibility: 'direct' }, undefined), '  r1  lobby  (direct, member)');
});

test('/who lists who is online, with ids and for how long; presence changes leave out the reader', () => {
  assert.deepEqual(whoLines([ada, bob], 'u1', 120_000), ['2 online:', '  ● Ada (you)  u1  for 2 min', '  ● Bob  u2  for 30 s']);
  assert.deepEqual(whoLines([], 'u1'), ['nobody online (presence not known yet)']);
  assert.deepEqual(presenceLines([ada, bob], [], true, 'u1'), ['online here: Bob']);
  assert.deepEqual(presenceLines([ada], [], true, 'u1'), ['nobody else is online here']);
  assert.deepEqual(presenceLines([bob], [ada], false, 'u3'), ['Bob is online', 'Ada went offline']);
  assert.deepEqual(presenceLines([], [ada], false, 'u1'), []);
});
