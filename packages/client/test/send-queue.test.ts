import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SendQueue } from '../src/internal.js';

const send = (clientMsgId: string, body: string) => ({ type: 'send' as const, client_msg_id: clientMsgId, body });

const opts = { maxInFlight: 2, firstPauseMs: 1000, maxPauseMs: 4000, unavailableRetryMs: 300 };
const ids = (items: Array<{ clientMsgId: string }>) => items.map((i) => i.clientMsgId);

function filled(n: number): SendQueue {
  const q = new SendQueue(opts);
  for (let i = 0; i < n; i++) q.add(send(`c${i}`, `body ${i}`));
  return q;
}

test('sends go out in the order written, at most maxInFlight at a time', () => {
  const q = filled(3);
  assert.deepEqual(ids(q.take(0)), ['c0', 'c1']);
  assert.deepEqual(ids(q.take(0)), []);
  assert.deepEqual(q.settle('c0')?.frame, send('c0', 'body 0'));
  assert.deepEqual(ids(q.take(0)), ['c2']);
});

test('after a lost connection the unacknowledged go out again, same ids, same order', () => {
  const q = filled(3);
  q.take(0);
  assert.deepEqual(ids(q.unsent()), ['c0', 'c1']);
  assert.deepEqual(q.list().map((i) => i.state), ['queued', 'queued', 'queued']);
  assert.deepEqual(ids(q.take(0)), ['c0', 'c1']);
  q.settle('c1');
  assert.deepEqual(ids(q.list()), ['c0', 'c2']);
});

test('a settled id is gone: a late ack or echo of it does nothing', () => {
  const q = filled(1);
  q.take(0);
  assert.ok(q.settle('c0'));
  assert.equal(q.settle('c0'), undefined);
  assert.equal(q.refuse('c0', 'unavailable', undefined, 0), undefined);
});

test('a rate limit pauses every send until retry_after_ms, then one at a time until one is stored', () => {
  const q = filled(3);
  q.take(0);
  const r = q.refuse('c0', 'rate_limited', 2000, 100);
  assert.equal(r?.item.state, 'retrying');
  assert.equal(r?.limitStarted, true);
  assert.equal(q.refuse('c1', 'rate_limited', 2000, 110)?.limitStarted, false, 'one limit, reported once');
  assert.deepEqual(ids(q.take(1000)), [], 'paused');
  assert.equal(q.wakeIn(1000), 1110);
  assert.deepEqual(ids(q.take(2110)), ['c0'], 'one on the wire while limited');
  assert.deepEqual(ids(q.take(2110)), []);
  q.settle('c0');
  assert.equal(q.isLimited, false);
  assert.deepEqual(ids(q.take(2200)), ['c1', 'c2']);
});

test('without retry_after_ms the pause doubles up to the cap and resets once a send is stored', () => {
  const q = filled(1);
  const waits: number[] = [];
  let now = 0;
  for (let i = 0; i < 4; i++) {
    q.take(now);
    q.refuse('c0', 'too_many_in_flight', undefined, now);
    waits.push(q.wakeIn(now)!);
    now += waits.at(-1)!;
  }
  assert.deepEqual(waits, [1000, 2000, 4000, 4000]);
  q.take(now);
  q.settle('c0');
  q.add(send('c1', 'again'));
  q.take(now);
  q.refuse('c1', 'too_many_in_flight', undefined, now);
  assert.equal(q.wakeIn(now), 1000);
});

test('unavailable retries shortly without limiting; a final refusal drops only that send', () => {
  const q = filled(2);
  q.take(0);
  const r = q.refuse('c0', 'unavailable', undefined, 0);
  assert.equal(r?.limitStarted, false);
  assert.equal(q.isLimited, false);
  assert.equal(q.wakeIn(0), 300);
  const failed = q.refuse('c1', 'body_too_large', undefined, 0);
  assert.equal(failed?.item.state, 'failed');
  assert.deepEqual(ids(q.list()), ['c0']);
  assert.deepEqual(ids(q.take(300)), ['c0']);
});

test('failAll empties the queue and reports each entry', () => {
  const q = filled(2);
  const all = q.failAll('deleted');
  assert.deepEqual(all.map((i) => [i.clientMsgId, i.state, i.reason]), [['c0', 'failed', 'deleted'], ['c1', 'failed', 'deleted']]);
  assert.equal(q.size, 0);
});

test('edits, deletes and reactions wait in the same queue, in write order, under the same limits', () => {
  const q = new SendQueue(opts);
  q.add(send('c0', 'hello'));
  q.add({ type: 'edit', message_id: '7', body: 'hello!', client_msg_id: 'c1' });
  q.add({ type: 'react', message_id: '7', emoji: '👍', on: true, client_msg_id: 'c2' });
  assert.deepEqual(q.take(0).map((i) => i.frame.type), ['send', 'edit'], 'maxInFlight counts every kind');
  q.refuse('c1', 'rate_limited', 500, 0);
  assert.deepEqual(ids(q.take(100)), [], 'a limit on an edit pauses the reaction too');
  q.settle('c0');
  assert.deepEqual(ids(q.take(600)), ['c1', 'c2'], 'a stored send ends the limit');
  assert.equal(q.refuse('c1', 'not_author', undefined, 600)?.item.state, 'failed');
  assert.deepEqual(ids(q.list()), ['c2']);
});
