import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backoffDelay, DEFAULT_BACKOFF } from '../src/internal.js';

test('delays double from the first to the cap', () => {
  const mid = () => 0.5;
  assert.deepEqual([0, 1, 2, 3, 4, 5, 6, 9].map((a) => backoffDelay(a, DEFAULT_BACKOFF, mid)), [250, 500, 1000, 2000, 4000, 8000, 8000, 8000]);
});

test('jitter spreads each delay by at most ±25 %', () => {
  assert.equal(backoffDelay(2, DEFAULT_BACKOFF, () => 0), 750);
  assert.equal(backoffDelay(2, DEFAULT_BACKOFF, () => 1), 1250);
  const seen = new Set(Array.from({ length: 200 }, () => backoffDelay(3, DEFAULT_BACKOFF)));
  for (const d of seen) assert.ok(d >= 1500 && d <= 2500, String(d));
  assert.ok(seen.size > 20, 'the random draw is used');
});

test('a huge attempt count neither overflows nor passes the cap', () => {
  assert.equal(backoffDelay(10_000, { initialMs: 100, maxMs: 5000, jitter: 0 }), 5000);
  assert.equal(backoffDelay(-1, { initialMs: 100, maxMs: 5000, jitter: 0 }), 100);
});
