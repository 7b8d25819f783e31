import { test } from 'node:test';
import assert from 'node:assert/strict';
import { elasticNames } from '@parley/clients';
import { nextIndexName } from '../src/reindex.js';

test('the new index is one past the highest number of the alias, rollover style', () => {
  const names = elasticNames('p');
  assert.equal(nextIndexName(names, []), 'p-messages-000001');
  assert.equal(nextIndexName(names, ['p-messages-000001']), 'p-messages-000002');
  assert.equal(nextIndexName(names, ['p-messages-000003', 'p-messages-000010', 'p-messages-000002']), 'p-messages-000011');
  // Other names under the pattern (a rebuild alias, another prefix's index) do not count.
  assert.equal(nextIndexName(names, ['p-messages-old', 'p-messages-x-000009', 'q-messages-000004']), 'p-messages-000001');
});
