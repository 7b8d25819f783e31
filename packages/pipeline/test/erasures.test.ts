import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newEventEnvelope, Snowflake } from '@parley/envelope';
import { ErasureRegistry } from '../src/erasures.js';

const ids = new Snowflake({ instance: 4 });
const who = (room: string, sender: string) => ({ room_id: room, sender_id: sender, sender_name: sender, client_msg_id: `c${Math.random().toString(36).slice(2)}` });

test('an erasure covers older messages of its user (or of everyone) in its room, and changes in an erased room', () => {
  const old = newEventEnvelope(ids.next(), { ...who('r', 'eve'), kind: 'message', body: 'old' });
  const keep = newEventEnvelope(ids.next(), { ...who('r', 'ann'), kind: 'message', body: 'keep' });
  const upTo = ids.next();
  const later = newEventEnvelope(ids.next(), { ...who('r', 'eve'), kind: 'message', body: 'after' });
  const elsewhere = newEventEnvelope(ids.next(), { ...who('other', 'eve'), kind: 'message', body: 'other room' });
  const reg = new ErasureRegistry();
  assert.equal(reg.stale(), true, 'nothing read yet');
  reg.replace([{ roomId: 'r', userId: 'eve', upTo }]);
  assert.equal(reg.stale(), false);
  assert.deepEqual([old, keep, later, elsewhere].map((e) => reg.covers(e)), [true, false, false, false]);
  const reaction = newEventEnvelope(ids.next(), { ...who('r', 'ann'), kind: 'reaction', target_id: keep.id, emoji: '👍', on: true });
  assert.equal(reg.covers(reaction), false, "a user's erasure leaves others' messages changeable");
  reg.remember({ roomId: 'r', userId: '*', upTo: ids.next() });
  assert.equal(reg.covers(reaction), true, 'a room erasure covers every change of what it erased');
  assert.equal(reg.covers(keep), true);
  reg.remember({ roomId: 'r', userId: 'eve', upTo: 1n });
  assert.equal(reg.covers(later), true, 'an older erasure never shrinks a newer one');
});

test('the registry is read again after a while (another worker may have applied an erasure)', () => {
  const reg = new ErasureRegistry();
  reg.replace([], 1000);
  assert.equal(reg.stale(1000 + 29_999), false);
  assert.equal(reg.stale(1000 + 30_000), true);
});
