import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MessageModel, summarize, type StoredState } from '../message-model.js';

test('the newest acknowledged edit is the body, whatever order the acks came in; version counts them', () => {
  const m = new MessageModel();
  m.sent('100', 'r', 'hello');
  m.edited('100', '300', 'third');
  m.edited('100', '200', 'second');
  assert.deepEqual(m.expected('100'), { body: 'third', version: 3, deleted: false, reactions: {} });
  m.edited('100', '300', 'third'); // the same event acknowledged again (a retry)
  assert.equal(m.expected('100')!.version, 3);
});

test('reactions count members whose newest toggle is on; a delete empties body and reactions', () => {
  const m = new MessageModel();
  m.sent('1', 'r', 'x');
  m.reacted('1', '10', 'a', '👍', true);
  m.reacted('1', '11', 'b', '👍', true);
  m.reacted('1', '13', 'a', '👍', false);
  m.reacted('1', '12', 'a', '👍', true); // older than the off: does not count
  m.reacted('1', '14', 'b', '🎉', true);
  assert.deepEqual(m.expected('1')!.reactions, { '👍': 1, '🎉': 1 });
  m.edited('1', '15', 'y');
  m.deleted('1', '16');
  assert.deepEqual(m.expected('1'), { body: '', version: 2, deleted: true, reactions: {} });
});

test('compare names every field that differs, a missing message and a shell; uncertain messages are left out', () => {
  const m = new MessageModel();
  m.sent('1', 'r', 'a');
  m.sent('2', 'r', 'b');
  m.sent('3', 'r', 'c');
  m.sent('4', 'r', 'd');
  m.reacted('1', '9', 'u', '👍', true);
  m.uncertain('4');
  const stored = new Map<string, StoredState>([
    ['1', { body: 'a', version: 2, deleted: false, reactions: {} }],
    ['2', { body: '', version: 0, deleted: false, shell: true }],
  ]);
  const diffs = m.compare('cassandra', stored);
  assert.deepEqual(
    diffs.map((d) => `${d.id}.${d.field}`),
    ['1.version', '1.reactions', '2.shell', '3.missing'],
  );
  assert.deepEqual(summarize(diffs), { 'cassandra.version': 1, 'cassandra.reactions': 1, 'cassandra.shell': 1, 'cassandra.missing': 1 });
  // A store without reactions (Elasticsearch) is not compared on them.
  assert.deepEqual(m.compare('elasticsearch', new Map([['1', { body: 'a', version: 1, deleted: false }]]), ['1']), []);
});

test('a change for a message the model never saw acknowledged is a drill bug, loudly', () => {
  assert.throws(() => new MessageModel().edited('7', '8', 'x'), /never acknowledged/);
});
