import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Snowflake, newMessageEnvelope } from '@parley/envelope';
import { messagesMapping } from '@parley/migrate';
import { itemError, Refresher, toDocument } from '../src/elastic-message-sink.js';

test('bulk item failures: 429, 5xx and a missing alias are retried; other 4xx are dead-lettered', () => {
  assert.equal(itemError({ status: 429, error: { type: 'es_rejected_execution_exception' } }).canRetry, true);
  assert.equal(itemError({ status: 503, error: { type: 'unavailable_shards_exception' } }).canRetry, true);
  assert.equal(itemError({ status: 404, error: { type: 'index_not_found_exception' } }).canRetry, true);
  const rejected = itemError({ status: 400, error: { type: 'strict_dynamic_mapping_exception', reason: 'field [x] not allowed' } });
  assert.equal(rejected.canRetry, false);
  assert.equal(rejected.details?.['reason'], 'store_rejected');
  assert.match(rejected.message, /strict_dynamic_mapping_exception/);
});

test('documents carry only mapped fields: the message, the id also as seq, and what an edit falls back to', () => {
  const e = newMessageEnvelope(new Snowflake({ instance: 2 }).next(), { room_id: 'r', sender_id: 'u', sender_name: 'U', body: 'b', client_msg_id: 'c', mentions: ['u2'] });
  const doc = toDocument(e);
  const mapped = Object.keys(messagesMapping().properties);
  assert.deepEqual(Object.keys(doc).filter((k) => !mapped.includes(k)), [], 'strict mapping: no unmapped field');
  assert.deepEqual(
    Object.keys(doc).sort(),
    ['body', 'client_msg_id', 'created_at', 'id', 'kind', 'mentions', 'original_body', 'original_mentions', 'room_id', 'sender_id', 'sender_name', 'seq', 'v', 'version'],
  );
  assert.equal(doc['seq'], e.id, 'sent as a string: an int64 does not fit a JS number');
});

test('the refresher asks for at most one refresh per interval, one at a time, and one more for writes made during it', async () => {
  let clock = 0;
  const calls: number[] = [];
  let release: () => void = () => undefined;
  const r = new Refresher(() => new Promise<void>((resolve) => (calls.push(clock), (release = resolve))), 50, () => clock);
  const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  r.wrote();
  r.wrote();
  await tick(5);
  assert.deepEqual(calls, [0], 'the first write after a quiet spell is refreshed at once, and writes share it');
  r.wrote();
  clock = 60;
  release();
  await tick(5);
  assert.equal(calls.length, 2, 'a write during a refresh gets one of its own after it');
  r.close();
  release();
  r.wrote();
  await tick(60);
  assert.equal(calls.length, 2, 'closed: no more refreshes');
});
