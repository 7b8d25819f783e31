import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createElastic } from '../src/index.js';
import { infra, uniqueName, deferrer } from '@parley/test-support';

test('elasticsearch: index and search', async (t) => {
  const defer = deferrer(t);
  const index = uniqueName('t');
  const h = createElastic({ url: infra.elasticsearchUrl });
  defer(() => h.close());
  await h.health();
  await h.client.indices.create({ index, mappings: { properties: { body: { type: 'text' }, room: { type: 'keyword' } } } });
  defer(() => h.client.indices.delete({ index }));
  await h.client.bulk({
    operations: [
      { index: { _index: index, _id: '1' } }, { body: 'the quick brown fox', room: 'r1' },
      { index: { _index: index, _id: '2' } }, { body: 'a lazy dog', room: 'r1' },
      { index: { _index: index, _id: '1' } }, { body: 'the quick brown fox', room: 'r1' },
    ],
    refresh: 'wait_for',
  });
  const rs = await h.client.search<{ body: string }>({ index, query: { bool: { must: { match: { body: 'quick fox' } }, filter: { term: { room: 'r1' } } } } });
  assert.deepEqual(rs.hits.hits.map((h) => h._id), ['1'], 'same _id twice is one document');
  const count = await h.client.count({ index });
  assert.equal(count.count, 2);
});
