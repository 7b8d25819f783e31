import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createElastic } from '@parley/clients';
import { infra, uniqueName, deferrer } from '@parley/test-support';
import { installElasticTemplates, removeElasticTemplates } from '../src/index.js';

test('es template: installs once, writes go through the alias with the explicit mapping', async (t) => {
  const defer = deferrer(t);
  const prefix = uniqueName('mig');
  const es = createElastic({ url: infra.elasticsearchUrl });
  defer(() => es.close());
  defer(() => removeElasticTemplates(es.client, prefix));
  const first = await installElasticTemplates(es.client, prefix);
  assert.equal(first.createdIndex, true);
  const second = await installElasticTemplates(es.client, prefix);
  assert.equal(second.createdIndex, false, 'a second install changes nothing');

  const alias = first.names.alias;
  await es.client.index({ index: alias, id: '42', document: { id: '42', seq: 42, room_id: 'r', body: 'hello world', created_at: Date.now(), v: 1 }, refresh: 'wait_for' });
  const mapping = await es.client.indices.getMapping({ index: alias });
  const props = Object.values(mapping)[0]!.mappings.properties!;
  assert.equal(props.id?.type, 'keyword');
  assert.equal(props.body?.type, 'text');
  assert.equal(props.created_at?.type, 'date');
  // dynamic: strict rejects an unknown field instead of silently changing the mapping.
  await assert.rejects(es.client.index({ index: alias, id: '43', document: { id: '43', surprise: true } }), /strict_dynamic_mapping_exception/);
});
