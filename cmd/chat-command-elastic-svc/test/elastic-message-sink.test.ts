import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Snowflake, newMessageEnvelope } from '@parley/envelope';
import { messagesMapping } from '@parley/migrate';
import { itemError, toDocument } from '../src/elastic-message-sink.js';

test('bulk item failures: 429, 5xx and a missing alias are retried; other 4xx are dead-lettered', () => {
  assert.equal(itemError({ status: 429, error: { type: 'es_rejected_execution_exception' } }).canRetry, true);
  assert.equal(itemError({ status: 503, error: { type: 'unavailable_shards_exception' } }).canRetry, true);
  assert.equal(itemError({ status: 404, error: { type: 'index_not_found_exception' } }).canRetry, true);
  const rejected = itemError({ status: 400, error: { type: 'strict_dynamic_mapping_exception', reason: 'field [x] not allowed' } });
  assert.equal(rejected.canRetry, false);
  assert.equal(rejected.details?.['reason'], 'store_rejected');
  assert.match(rejected.message, /strict_dynamic_mapping_exception/);
});

test('documents carry exactly the mapped fields, the id also as seq', () => {
  const e = newMessageEnvelope(new Snowflake({ instance: 2 }).next(), { room_id: 'r', sender_id: 'u', sender_name: 'U', body: 'b', client_msg_id: 'c' });
  const doc = toDocument(e);
  assert.deepEqual(Object.keys(doc).sort(), Object.keys(messagesMapping().properties).sort());
  assert.equal(doc['seq'], e.id, 'sent as a string: an int64 does not fit a JS number');
});
