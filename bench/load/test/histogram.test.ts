import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Histogram, bucketOf, bucketUpperMs, GROWTH } from '../histogram.js';

test('percentiles stay within the bucket growth of the exact sample', () => {
  const h = new Histogram();
  const xs = Array.from({ length: 10_000 }, (_, i) => (i + 1) / 10); // 0.1 .. 1000 ms
  for (const x of xs) h.record(x);
  for (const [p, exact] of [[0.5, 500], [0.99, 990], [0.999, 999]] as const) {
    const got = h.percentile(p);
    assert.ok(got >= exact && got <= exact * GROWTH, `p${p * 100}: ${got} vs ${exact}`);
  }
  assert.equal(h.percentile(1), 1000);
});

test('an empty histogram has no percentiles; merged histograms add up', () => {
  assert.ok(Number.isNaN(new Histogram().percentile(0.5)));
  const a = new Histogram();
  const b = new Histogram();
  a.record(1);
  b.record(100);
  b.record(100);
  const m = new Histogram();
  m.merge(a.toJSON());
  m.merge(JSON.parse(JSON.stringify(b.toJSON())) as { counts: number[]; maxMs: number });
  assert.equal(m.count, 3);
  assert.equal(m.maxMs, 100);
  assert.ok(m.percentile(0.34) >= 100 && m.percentile(0.33) < 1.03);
});

test('buckets cover zero, negatives and huge values without throwing', () => {
  assert.equal(bucketOf(0), 0);
  assert.equal(bucketOf(-5), 0);
  assert.ok(bucketUpperMs(bucketOf(1e9)) > 1e5);
});
