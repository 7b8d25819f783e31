import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Message } from '@parley/client';
import { MessageBook } from '../src/message-book.js';

const at = Date.UTC(2030, 0, 1, 12, 0, 0);
const m = (id: string, over: Partial<Message> = {}): Message => ({ v: 1, id, room_id: 'r', sender_id: 'u-ada', sender_name: 'Ada', body: `text ${id}`, client_msg_id: `c${id}`, kind: 'message', created_at: at, ...over });
const time = new Date(at).toLocaleTimeString();

test('messages get numbers in the order shown; #n and ids resolve, anything else says why', () => {
  const book = new MessageBook();
  assert.equal(book.line(m('100'), 'u-me'), `#1 [${time}] Ada: text 100`);
  assert.equal(book.line(m('101', { sender_id: 'u-me', sender_name: 'Me' }), 'u-me'), `#2 [${time}] Me (you): text 101`);
  assert.deepEqual(book.resolve('#2'), { id: '101' });
  assert.deepEqual(book.resolve('4242'), { id: '4242' }, 'an id not shown is passed on: the edge answers for it');
  for (const bad of ['#3', '#0', '#x', 'abc', '-5', undefined]) assert.ok('problem' in book.resolve(bad), String(bad));
});

test('edited, deleted, reactions (own marked), replies and thread counts show on the line', () => {
  const book = new MessageBook();
  book.line(m('100'), undefined);
  const changed = m('100', { body: 'better', version: 2, edited_at: at + 5, changed_at: at + 9, reactions: [{ emoji: '👍', count: 2, me: true }, { emoji: '🎉', count: 1, me: false }], reply_count: 2 });
  assert.equal(book.remember(changed).changed, true);
  assert.equal(book.line(changed, undefined), `#1 [${time}] Ada: better (edited) [👍 2* 🎉 1] (2 replies)`);
  assert.equal(book.reacted('100', '👍'), true);
  assert.equal(book.reacted('100', '🎉'), false);
  assert.equal(book.remember(m('100')).changed, false, 'an older copy never undoes a change');
  assert.equal(book.line(m('102', { reply_to: '100' }), undefined), `#2 [${time}] Ada ↪ #1: text 102`);
  assert.equal(book.line(m('102', { reply_to: '100', body: '', deleted_at: at + 20, changed_at: at + 20 }), undefined), `#2 [${time}] Ada ↪ #1: (deleted)`);
});
