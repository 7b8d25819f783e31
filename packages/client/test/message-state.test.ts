import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Message } from '@parley/contracts';
import { changedAt, isDeleted, isNewerCopy, mentions, reactedWith } from '../src/index.js';
import { SeenIds } from '../src/internal.js';

const base: Message = { v: 1, id: '10', room_id: 'r', sender_id: 'a', sender_name: 'A', body: 'hi', client_msg_id: 'c', kind: 'message', created_at: 100 };

test('the copy with the larger changed_at wins; a message never changed is at created_at', () => {
  const edited = { ...base, body: 'hi!', version: 2, edited_at: 150, changed_at: 150 };
  assert.equal(changedAt(base), 100);
  assert.equal(isNewerCopy(base, edited), true);
  assert.equal(isNewerCopy(edited, base), false, 'an older copy (a late REST page) never overwrites a newer one');
  assert.equal(isNewerCopy(edited, { ...edited }), false, 'the same state again is no change');
  const sameMs = { ...edited, reactions: [{ emoji: '👍', count: 1, me: false }] };
  assert.equal(isNewerCopy(edited, sameMs), true, 'two changes within one millisecond: the later arrival');
});

test('helpers read reactions, deletion and mentions', () => {
  const m = { ...base, reactions: [{ emoji: '👍', count: 2, me: true }, { emoji: '🎉', count: 1, me: false }], mentions: ['u1'] };
  assert.deepEqual([reactedWith(m, '👍'), reactedWith(m, '🎉'), reactedWith(base, '👍')], [true, false, false]);
  assert.deepEqual([mentions(m, 'u1'), mentions(m, 'u2'), mentions(base, 'u1')], [true, false, false]);
  assert.deepEqual([isDeleted(base), isDeleted({ ...base, body: '', deleted_at: 200, changed_at: 200 })], [false, true]);
});

test('SeenIds tells new, newer and stale copies apart, and lets updates of unknown ids through', () => {
  const seen = new SeenIds();
  assert.equal(seen.offer(base), 'new');
  assert.equal(seen.offer(base), 'stale');
  const edited = { ...base, body: 'x', version: 2, changed_at: 120 };
  assert.equal(seen.update(edited), true);
  assert.equal(seen.update(edited), false, 'a repeated message_updated');
  assert.equal(seen.offer(base), 'stale', 'an older copy after an update');
  assert.equal(seen.offer({ ...edited, changed_at: 130, deleted_at: 130 }), 'newer');
  assert.equal(seen.update({ ...base, id: '11' }), true);
  assert.equal(seen.has('11'), false, 'an update does not make an id delivered: its message frame still comes through');
});
