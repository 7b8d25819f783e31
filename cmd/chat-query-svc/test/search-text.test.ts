import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSearchText } from '../src/search-text.js';
import { buildSearchBody } from '../src/elastic-message-search.js';
import { decodeCursor, encodeCursor, queryFingerprint } from '../src/cursor.js';

test('words and quoted phrases are split; query syntax stays text', () => {
  assert.deepEqual(parseSearchText('hello "big world" again', 256), { words: 'hello again', phrases: ['big world'] });
  assert.deepEqual(parseSearchText('*:* OR (a AND body:x', 256), { words: '*:* OR (a AND body:x', phrases: [] });
  assert.deepEqual(parseSearchText('unbalanced "quote here', 256), { words: 'unbalanced quote here', phrases: [] });
  assert.deepEqual(parseSearchText('"only phrase"', 256), { words: '', phrases: ['only phrase'] });
});

test('empty, blank and over-long text is refused', () => {
  assert.throws(() => parseSearchText('   ', 256), /q must contain/);
  assert.throws(() => parseSearchText('""', 256), /q must contain/);
  assert.throws(() => parseSearchText('x'.repeat(257), 256), /longer than 256/);
  assert.throws(() => parseSearchText('"a" "b" "c" "d" "e" "f" "g" "h" "i"', 256), /phrases/);
});

test('the ES query uses only match / match_phrase and filters, sorted on the unique seq', () => {
  const body = buildSearchBody({ roomId: 'r1', text: parseSearchText('*:* "x y"', 256), senderId: 'u1', fromMs: 1, toMs: 2, order: 'oldest', limit: 10, afterId: 123456789012345678n });
  const json = JSON.stringify(body);
  assert.ok(!json.includes('query_string'));
  assert.deepEqual(body['sort'], [{ seq: { order: 'asc' } }]);
  assert.deepEqual(body['search_after'], ['123456789012345678']);
  assert.equal(body['size'], 11);
  assert.match(json, /"match":\{"body":\{"query":"\*:\*","operator":"and"\}\}/);
  assert.match(json, /"match_phrase":\{"body":\{"query":"x y"\}\}/);
  assert.match(json, /"range":\{"created_at":\{"gte":1,"lt":2\}\}/);
});

test('cursors round-trip and malformed ones are refused with a clear message', () => {
  const fp = queryFingerprint({ roomId: 'r', q: 'x', order: 'newest' });
  const c = encodeCursor({ id: 987654321987654321n, order: 'newest', fingerprint: fp });
  assert.deepEqual(decodeCursor(c), { id: 987654321987654321n, order: 'newest', fingerprint: fp });
  for (const bad of ['', '!!!', 'e30', Buffer.from('{"v":1,"id":"-1","o":"newest","h":"0123456789abcdef"}').toString('base64url'), 'A'.repeat(300), Buffer.from('[1]').toString('base64url')]) {
    assert.throws(() => decodeCursor(bad), /cursor is malformed/, bad);
  }
  assert.notEqual(queryFingerprint({ a: 1, b: undefined }), queryFingerprint({ a: 1, b: 'x' }));
});
