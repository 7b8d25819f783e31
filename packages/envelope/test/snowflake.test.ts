import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Snowflake, timeOf, instanceOf, bucketOf, parseId, firstIdAt, SNOWFLAKE_EPOCH_MS, DEFAULT_BUCKET_MS } from '../src/index.js';

const T0 = Date.UTC(2026, 0, 1);

test('ids increase strictly, also within one millisecond', () => {
  const g = new Snowflake({ instance: 3, now: () => T0 });
  let prev = -1n;
  for (let i = 0; i < 10_000; i++) {
    const id = g.next();
    assert.ok(id > prev, `id ${i} not increasing`);
    prev = id;
  }
});

test('a clock that steps back never produces a smaller id', () => {
  let now = T0 + 10_000;
  const g = new Snowflake({ instance: 1, now: () => now });
  const a = g.next();
  now -= 5_000;
  const b = g.next();
  const c = g.next();
  assert.ok(b > a && c > b);
  assert.equal(timeOf(b), T0 + 10_000, 'borrows the last logical millisecond');
});

test('sequence overflow borrows the next millisecond instead of repeating', () => {
  const g = new Snowflake({ instance: 0, now: () => T0 });
  const seen = new Set<bigint>();
  for (let i = 0; i < 4096 * 3; i++) seen.add(g.next());
  assert.equal(seen.size, 4096 * 3);
  assert.equal(timeOf(g.next()), T0 + 3);
});

test('two instances never collide in the same millisecond', () => {
  const a = new Snowflake({ instance: 1, now: () => T0 });
  const b = new Snowflake({ instance: 2, now: () => T0 });
  const ids = new Set<bigint>();
  for (let i = 0; i < 5000; i++) {
    ids.add(a.next());
    ids.add(b.next());
  }
  assert.equal(ids.size, 10_000);
});

test('time and instance decode from the id', () => {
  const g = new Snowflake({ instance: 1023, now: () => T0 + 123 });
  const id = g.next();
  assert.equal(timeOf(id), T0 + 123);
  assert.equal(instanceOf(id), 1023);
  assert.ok(firstIdAt(T0 + 123) <= id && firstIdAt(T0 + 124) > id);
});

test('bucket math follows the time inside the id', () => {
  const at = (ms: number) => new Snowflake({ instance: 0, now: () => ms }).next();
  const b = bucketOf(at(T0));
  assert.equal(b, Math.floor(T0 / DEFAULT_BUCKET_MS));
  const edge = (b + 1) * DEFAULT_BUCKET_MS;
  assert.equal(bucketOf(at(edge - 1)), b);
  assert.equal(bucketOf(at(edge)), b + 1);
  assert.equal(bucketOf(at(T0), 1000), Math.floor(T0 / 1000));
});

test('rejects bad instance numbers and a clock before the epoch', () => {
  assert.throws(() => new Snowflake({ instance: 1024 }), RangeError);
  assert.throws(() => new Snowflake({ instance: -1 }), RangeError);
  assert.throws(() => new Snowflake({ instance: 0, now: () => SNOWFLAKE_EPOCH_MS - 1 }).next(), RangeError);
});

test('parseId accepts positive int64 decimals only', () => {
  assert.equal(parseId('42'), 42n);
  assert.equal(parseId('9223372036854775807'), 9223372036854775807n);
  for (const bad of ['0', '-1', '01', '9223372036854775808', '1e3', ' 1', '', 'abc']) assert.equal(parseId(bad), undefined, bad);
});
