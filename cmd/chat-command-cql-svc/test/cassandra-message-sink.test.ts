import { test } from 'node:test';
import assert from 'node:assert/strict';
import cassandra from 'cassandra-driver';
import { newMessageEnvelope, Snowflake, type Envelope } from '@parley/envelope';
import { CassandraMessageSink, type CqlSession } from '../src/cassandra-message-sink.js';

/**
 * Records which message ids each write of a `messages` row wrote, in the order the statements
 * were sent and settled; the other tables' statements (retry keys, erasures) answer empty.
 */
function fakeSession(behave: (ids: string[]) => Promise<void>) {
  const sent: string[][] = [];
  const settled: string[][] = [];
  const run = async (ids: string[]) => {
    sent.push(ids);
    try {
      await behave(ids);
    } finally {
      settled.push(ids);
    }
  };
  const idOf = (params: unknown) => String((params as unknown[])[2]);
  const empty = { rows: [], first: () => null };
  const isRow = (q: string) => q.startsWith('INSERT INTO ks.messages ');
  const session = {
    execute: async (q: string, params: unknown) => (isRow(q) ? run([idOf(params)]) : empty),
    batch: async (qs: Array<{ query: string; params: unknown }>) => run(qs.filter((x) => isRow(x.query)).map((x) => idOf(x.params))),
  } as unknown as CqlSession;
  return { session, sent, settled };
}

const ids = new Snowflake({ instance: 1 });

function envelopes(room: string, n: number, body = 'hi'): Envelope[] {
  return Array.from({ length: n }, (_, i) => newMessageEnvelope(ids.next(), { room_id: room, sender_id: 'u', sender_name: 'U', body, client_msg_id: `c${i}` }, { maxBodyBytes: 8192 }));
}

test('a room\'s rows are written run after run: a slow run holds back every later row of its room', async () => {
  // 4 KB bodies: about seven rows per run, so the chunk becomes several runs.
  const rows = envelopes('r1', 30, 'x'.repeat(4000));
  const slow = rows[0]!.id;
  const fake = fakeSession(async (ids) => {
    if (ids.includes(slow)) await new Promise((r) => setTimeout(r, 50));
  });
  const other = envelopes('r2', 3);
  const results = await new CassandraMessageSink(fake.session, 'ks').write([...rows, ...other]);
  assert.ok(results.every((r) => r === undefined));
  const r1Sent = fake.sent.filter((ids) => ids.some((id) => rows.some((e) => e.id === id)));
  assert.ok(r1Sent.length > 1, 'several runs');
  assert.deepEqual(r1Sent.flat(), rows.map((e) => e.id), 'in record order, each row once');
  // Each run of r1 was sent only after the one before it settled.
  for (let k = 1; k < r1Sent.length; k++) {
    assert.ok(fake.settled.indexOf(r1Sent[k - 1]!) < fake.settled.indexOf(r1Sent[k]!));
    assert.ok(fake.settled.indexOf(r1Sent[k - 1]!) !== -1);
  }
  // The other room did not wait for r1's slow run.
  const r2 = fake.settled.findIndex((ids) => ids.includes(other[0]!.id));
  assert.ok(r2 < fake.settled.indexOf(r1Sent[0]!), 'rooms are written concurrently');
});

test('a run the store cannot take now leaves every later row of the room unwritten and retryable', async () => {
  const rows = envelopes('r1', 20, 'y'.repeat(4000));
  const failing = rows[9]!.id;
  const fake = fakeSession(async (ids) => {
    if (ids.includes(failing)) throw new cassandra.errors.OperationTimedOutError('timeout');
  });
  const results = await new CassandraMessageSink(fake.session, 'ks').write(rows);
  const firstFailed = results.findIndex((r) => r !== undefined);
  assert.ok(firstFailed > 0 && firstFailed <= 9);
  assert.ok(results.slice(firstFailed).every((r) => r?.canRetry === true), 'the failed run and all after it are retryable');
  assert.ok(results.slice(0, firstFailed).every((r) => r === undefined));
  const written = new Set(fake.sent.flat());
  assert.ok(rows.slice(firstFailed).every((e, k) => k < 8 || !written.has(e.id)), 'nothing after the failed run was sent');
});

test('a refused batch is retried row by row: only the poison row is rejected, order is kept', async () => {
  const rows = envelopes('r1', 5);
  const poison = rows[2]!.id;
  const fake = fakeSession(async (ids) => {
    if (ids.includes(poison)) throw new cassandra.errors.ResponseError(cassandra.types.responseErrorCodes.invalid, 'bad value');
  });
  const results = await new CassandraMessageSink(fake.session, 'ks').write(rows);
  assert.deepEqual(results.map((r) => r?.canRetry), [undefined, undefined, false, undefined, undefined]);
  assert.equal(results[2]?.details?.['reason'], 'store_rejected');
  assert.deepEqual(fake.sent.slice(1).flat(), rows.map((e) => e.id), 'then one row at a time, in order');
});

test('a side row that fails for now makes its event and every later one of the room retryable, while earlier ones stay stored', async () => {
  const rows = envelopes('r1', 20, 'z'.repeat(4000));
  const failing = rows[12]!.id;
  const session = {
    execute: async (q: string, params: unknown[]) => {
      if (q.startsWith('INSERT INTO ks.client_ids ') && String(params[3]) === failing) throw new cassandra.errors.OperationTimedOutError('timeout');
      return { rows: [], first: () => null };
    },
    batch: async () => undefined,
  } as unknown as CqlSession;
  const other = envelopes('r2', 2);
  const results = await new CassandraMessageSink(session, 'ks').write([...rows, ...other]);
  assert.ok(results.slice(0, 12).every((r) => r === undefined), 'before the failure: stored');
  assert.ok(results.slice(12, 20).every((r) => r?.canRetry === true), 'the failed event and all after it in its room: retried');
  assert.ok(results.slice(20).every((r) => r === undefined), 'another room is not held back');
});
