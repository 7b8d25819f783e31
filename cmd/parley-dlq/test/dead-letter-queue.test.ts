import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DlqUsageError, roomKey, selectByReason, selectByRefs, type StoredLetter } from '../src/dead-letter-queue.js';

function letter(partition: number, offset: number, reason: string, key: string | null = 'room-1', value = '{"room_id":"room-1"}'): StoredLetter {
  return { partition, offset: String(offset), key, value: Buffer.from(value), reason, message: '', source: `kafka:t:${partition}:${offset}`, service: 's', at: 0 };
}
const letters = [letter(0, 0, 'body_too_large'), letter(0, 1, 'bad_json'), letter(1, 0, 'body_too_large'), letter(1, 5, 'store_rejected')];

test('letters are picked by partition:offset, or by an offset only one partition holds', () => {
  assert.deepEqual(selectByRefs(letters, ['1:5', '0:1']).map((l) => `${l.partition}:${l.offset}`), ['1:5', '0:1']);
  assert.deepEqual(selectByRefs(letters, ['5']).map((l) => `${l.partition}:${l.offset}`), ['1:5']);
  // Named twice, redriven once.
  assert.equal(selectByRefs(letters, ['0:1', '0:1']).length, 1);
});

test('a wrong reference says what is there instead', () => {
  const fails = (refs: string[], message: RegExp) => assert.throws(() => selectByRefs(letters, refs), (err: unknown) => err instanceof DlqUsageError && message.test(err.message));
  fails(['0:9'], /no dead letter at 0:9: partition 0 holds offsets 0-1/);
  fails(['7:0'], /no dead letter at 7:0: partition 7 holds no dead letters/);
  fails(['0'], /offset 0 is in partitions 0, 1: give it as <partition>:<offset>/);
  fails(['abc'], /"abc" is not a dead letter reference/);
  fails(['1:5', '1:6'], /no dead letter at 1:6/);
  fails([], /name at least one dead letter/);
  assert.throws(() => selectByRefs([], ['0:0']), /the dead-letter topic is empty/);
});

test('letters are picked by reason; an unknown reason lists the reasons present', () => {
  assert.equal(selectByReason(letters, 'body_too_large').length, 2);
  assert.throws(() => selectByReason(letters, 'nope'), /no dead letters with reason "nope"; reasons present: body_too_large \(2\), bad_json \(1\), store_rejected \(1\)/);
});

test('a redriven record is keyed by its room: the letter key, else the room its value names, else refused', () => {
  assert.equal(roomKey(letter(0, 0, 'x', 'room-9')), 'room-9');
  assert.equal(roomKey(letter(0, 0, 'x', null, '{"room_id":"room-3","v":1}')), 'room-3');
  assert.throws(() => roomKey(letter(0, 4, 'bad_json', null, '{"v":1,"id":')), /dead letter 0:4 has no key and its value names no room_id/);
});
