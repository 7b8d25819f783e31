import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SeenIds } from '../src/internal.js';
import { compareIds } from '../src/index.js';

test('an id is new once', () => {
  const seen = new SeenIds();
  assert.equal(seen.add('10'), true);
  assert.equal(seen.add('10'), false);
  assert.equal(seen.add('11'), true);
  assert.equal(seen.size, 2);
});

test('the oldest ids are forgotten past the limit', () => {
  const seen = new SeenIds(3);
  for (const id of ['1', '2', '3', '4']) seen.add(id);
  assert.equal(seen.has('1'), false);
  assert.deepEqual(['2', '3', '4'].map((id) => seen.has(id)), [true, true, true]);
  seen.clear();
  assert.equal(seen.add('4'), true);
});

test('ids order by value, not by text', () => {
  assert.ok(compareIds('9', '10') < 0);
  assert.ok(compareIds('7312345678901234567', '7312345678901234566') > 0);
  assert.equal(compareIds('42', '42'), 0);
});
