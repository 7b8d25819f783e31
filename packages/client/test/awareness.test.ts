import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Message } from '@parley/contracts';
import { ReadMarks, TypingTracker, typingLine, UnreadCounts } from '../src/index.js';

test('a typing member shows for the show time, a repeat extends it, their message ends it', () => {
  const t = new TypingTracker(1000);
  t.typing('u1', 'Ada', 0);
  t.typing('u2', 'Bob', 500);
  assert.deepEqual(t.names(900), ['Ada', 'Bob']);
  assert.equal(t.nextChange, 1000);
  t.typing('u1', 'Ada', 900);
  assert.deepEqual(t.names(1200), ['Ada', 'Bob']);
  assert.deepEqual(t.names(1500), ['Ada']);
  t.stopped('u1');
  assert.deepEqual(t.names(1600), []);
  assert.equal(t.nextChange, undefined);
});

test('the typing line names one, two, or two and the rest', () => {
  assert.equal(typingLine([]), '');
  assert.equal(typingLine(['Ada']), 'Ada is typing…');
  assert.equal(typingLine(['Ada', 'Bob']), 'Ada and Bob are typing…');
  assert.equal(typingLine(['Ada', 'Bob', 'Cy']), 'Ada, Bob and 1 other are typing…');
  assert.equal(typingLine(['Ada', 'Bob', 'Cy', 'Di']), 'Ada, Bob and 2 others are typing…');
});

const ME = 'u-me';
const live = (room: string, sender: string, mentions?: string[]): Message => ({
  v: 1,
  id: '7',
  room_id: room,
  sender_id: sender,
  sender_name: sender,
  body: 'x',
  client_msg_id: 'c1',
  kind: 'message',
  created_at: 1,
  ...(mentions ? { mentions } : {}),
});

test("unread counts: the server's answer, then live messages not one's own, mentions of me counted apart", () => {
  const u = new UnreadCounts(ME);
  u.fromRest({ rooms: [{ room_id: 'a', read_up_to: '5', messages: 2, mentions: 0 }] });
  assert.equal(u.live(live('a', 'u-x')), true);
  assert.equal(u.live(live('a', ME)), false, 'my own message is never unread');
  u.live(live('b', 'u-x', [ME]));
  u.live(live('b', 'u-x', ['u-y']));
  assert.deepEqual(u.of('a'), { messages: 3, mentions: 0 });
  assert.deepEqual(u.of('b'), { messages: 2, mentions: 1 });
  u.fromFrame({ type: 'unread', room_id: 'b', messages: 1, mentions: 0 });
  assert.deepEqual(u.of('b'), { messages: 1, mentions: 0 }, "the edge's count replaces the local one");
  u.read('a');
  assert.deepEqual(u.of('a'), { messages: 0, mentions: 0 });
  u.fromRest({ rooms: [] });
  assert.deepEqual(u.of('b'), { messages: 0, mentions: 0 });
});

test('read marks only move forward, and readers leave out the author', () => {
  const r = new ReadMarks();
  assert.equal(r.apply([{ user_id: 'u1', message_id: '100' }, { user_id: 'u2', message_id: '99' }]), true);
  assert.equal(r.apply([{ user_id: 'u1', message_id: '20' }]), false, 'a late, older mark is ignored');
  assert.equal(r.of('u1'), '100');
  assert.deepEqual(r.readers('99', 'u3').sort(), ['u1', 'u2']);
  assert.deepEqual(r.readers('100', 'u1'), [], 'the author is no reader of their own message');
});
