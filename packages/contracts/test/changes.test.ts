import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clientFrameSchema, eventSchema, isEmoji, mentionedUsernames } from '../src/index.js';

test('mentions: @username after a non-name character, lower case, once each, bounded; an e-mail address is none', () => {
  assert.deepEqual(mentionedUsernames('hi @Ada and @bob.smith, also @ada again.', 20), ['ada', 'bob.smith']);
  assert.deepEqual(mentionedUsernames('mail ada@example.com or @x (too short)', 20), []);
  assert.deepEqual(mentionedUsernames('@one @two @three', 2), ['one', 'two']);
  assert.deepEqual(mentionedUsernames('(@carol) end @dave-', 20), ['carol', 'dave']);
});

test('emoji: exactly one, sequences included; text, two emoji or an empty string are not', () => {
  for (const ok of ['👍', '❤️', '👍🏽', '🇫🇷', '👩‍👩‍👧', '1️⃣']) assert.equal(isEmoji(ok), true, ok);
  for (const bad of ['', 'a', ':)', '👍👍', '👍 ', 'abc', '1']) assert.equal(isEmoji(bad), false, JSON.stringify(bad));
});

test('events: each kind has its own fields; unknown ones and wrong kinds are refused', () => {
  const base = { v: 1, id: '386121333414608896', room_id: 'r', sender_id: 'u', sender_name: 'U', client_msg_id: 'c', created_at: 1 };
  assert.equal(eventSchema.safeParse({ ...base, kind: 'edit', target_id: '1', body: 'x' }).success, true);
  assert.equal(eventSchema.safeParse({ ...base, kind: 'edit', target_id: '1' }).success, false, 'an edit needs a body');
  assert.equal(eventSchema.safeParse({ ...base, kind: 'reaction', target_id: '1', emoji: 'no', on: true }).success, false);
  assert.equal(eventSchema.safeParse({ ...base, kind: 'delete', target_id: '1', by_owner: false }).success, false, 'the owner flag is only ever true');
  assert.equal(eventSchema.safeParse({ ...base, kind: 'message', body: 'x', mentions: ['a', 'a'] }).success, false, 'a mention once');
  assert.equal(eventSchema.safeParse({ ...base, kind: 'erase', erase_user_id: 'u9' }).success, true);
  assert.equal(eventSchema.safeParse({ ...base, kind: 'boost', target_id: '1' }).success, false);
});

test('client frames: the commands of the protocol', () => {
  const cid = { client_msg_id: 'c1' };
  for (const f of [
    { type: 'send', body: 'x', reply_to: '5', ...cid },
    { type: 'edit', message_id: '5', body: 'y', ...cid },
    { type: 'delete', message_id: '5', ...cid },
    { type: 'react', message_id: '5', emoji: '🎉', on: false, ...cid },
  ]) assert.equal(clientFrameSchema.safeParse(f).success, true, f.type);
  assert.equal(clientFrameSchema.safeParse({ type: 'react', message_id: '5', emoji: '🎉', ...cid }).success, false, 'on is required');
  assert.equal(clientFrameSchema.safeParse({ type: 'delete', message_id: 'x', ...cid }).success, false);
});
