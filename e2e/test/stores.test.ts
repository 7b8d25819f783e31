import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tally } from '../stores.js';

test('tally tells found, missing, duplicated and unexpected ids apart', () => {
  const t = tally(['1', '2', '2', '9'], new Set(['1', '2', '3']));
  assert.deepEqual(t, { rows: 4, distinct: 3, found: 2, missing: 1, duplicated: 1, unexpected: 1 });
});

test('a store holding exactly the expected ids tallies clean', () => {
  assert.deepEqual(tally(['5', '4'], new Set(['4', '5'])), { rows: 2, distinct: 2, found: 2, missing: 0, duplicated: 0, unexpected: 0 });
});
