import { test } from 'node:test';
import assert from 'node:assert/strict';
import { roomSubject, roomSubjectWildcard, roomOfSubject, messageStreamConfig, isValidRoomToken } from '../src/index.js';

test('room subjects round trip and refuse tokens that change the subject', () => {
  assert.equal(roomSubject('r-1'), 'chat.room.r-1.msg');
  assert.equal(roomSubject('r-1', 't_abc'), 't_abc.room.r-1.msg');
  assert.equal(roomOfSubject('chat.room.r-1.msg'), 'r-1');
  assert.equal(roomOfSubject('chat.room.a.b.msg'), undefined);
  assert.equal(roomOfSubject('chat.rooms.created'), undefined);
  for (const bad of ['a.b', '*', '>', 'a b', 'a\tb', '', 'x'.repeat(65)]) {
    assert.equal(isValidRoomToken(bad), false, bad);
    assert.throws(() => roomSubject(bad));
  }
  assert.throws(() => roomSubject('r', 'bad prefix'));
});

test('the stream captures every room subject with a dedupe window and file storage', () => {
  const cfg = messageStreamConfig({ name: 'S', prefix: 'p' });
  assert.deepEqual(cfg.subjects, ['p.room.*.*'], 'the room subjects .msg and .upd');
  assert.equal(roomSubjectWildcard('p'), 'p.room.*.msg', 'what ingestion takes');
  assert.equal(cfg.storage, 'file');
  assert.equal(cfg.discard, 'new');
  assert.equal(cfg.duplicate_window, 120_000_000_000);
});
