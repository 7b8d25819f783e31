import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createElastic } from '@parley/clients';
import { envelopeRecord } from '@parley/envelope';
import { elasticNames, removeElasticTemplates } from '@parley/migrate';
import { infra, deferrer, eventually } from '@parley/test-support';
import {
  pipelineNames,
  pipelineEnv,
  runService,
  createTopics,
  collectTopic,
  makeEnvelopes,
  headerString,
  poisonValues,
  searchAll,
} from '@parley/test-support/pipeline';
import { elasticCommandService } from '../app.js';

async function setup(t: Parameters<typeof deferrer>[0]) {
  const defer = deferrer(t);
  const names = pipelineNames();
  const es = createElastic({ url: infra.elasticsearchUrl });
  defer(() => es.close());
  defer(() => removeElasticTemplates(es.client, names.esPrefix));
  const topics = await createTopics(names);
  defer(topics.drop);
  const producer = topics.kafka.producer();
  await producer.connect();
  defer(() => producer.disconnect());
  const dlq = await collectTopic(topics.kafka, names.dlqTopic);
  defer(dlq.stop);
  const env = pipelineEnv(names, { KAFKA_GROUP_ID: names.esGroup, ELASTIC_BULK_MAX_DOCS: '100', ELASTIC_BULK_FLUSH_MS: '100' });
  return { defer, names, es: es.client, alias: elasticNames(names.esPrefix).alias, producer, dlq, env };
}

test('documents are indexed once each by message id through the alias; poison goes to the DLQ and the partition moves on', async (t) => {
  const { defer, names, es, alias, producer, dlq, env } = await setup(t);
  const envs = makeEnvelopes(300, ['r1', 'r2', 'r3'], (i) => `hello number ${i}`);
  const poison = poisonValues(envs[0]!);
  await producer.send({
    topic: names.topic,
    messages: [
      ...envs.slice(0, 150).map(envelopeRecord),
      ...poison.map(([, value]) => ({ key: Buffer.from('r1'), value })),
      ...envs.slice(150).map(envelopeRecord),
      envelopeRecord(envs[7]!),
    ],
  });
  const runner = await runService(elasticCommandService, env);
  defer(() => runner.stop());

  await eventually(async () => (await searchAll(es, alias)).length >= envs.length && dlq.records.length >= poison.length, 45_000, 300);
  const docs = await searchAll(es, alias);
  assert.equal(docs.length, envs.length, 'each message exactly once');
  for (const room of ['r1', 'r2', 'r3']) {
    assert.deepEqual(
      docs.filter((d) => d.room_id === room).map((d) => d._id),
      envs.filter((e) => e.room_id === room).map((e) => e.id),
      `room ${room} in order`,
    );
  }
  assert.deepEqual(dlq.records.map((r) => headerString(r, 'dlq-reason')).sort(), poison.map(([r]) => r).sort());
  const hit = await es.search({ index: alias, query: { match: { body: 'number 42' } }, size: 1 });
  assert.equal(hit.hits.hits[0]?._id, envs[42]!.id, 'body is full-text searchable');
  const mapping = await es.indices.getMapping({ index: alias });
  assert.equal(Object.values(mapping)[0]?.mappings.dynamic, 'strict', 'explicit mapping from the template');
});

test('a worker stopped mid-stream and restarted loses nothing', async (t) => {
  const { defer, names, es, alias, producer, env } = await setup(t);
  const envs = makeEnvelopes(3000, ['r1', 'r2', 'r3', 'r4']);
  let runner = await runService(elasticCommandService, env);
  defer(() => runner.stop());
  for (let i = 0; i < envs.length; i += 250) await producer.send({ topic: names.topic, messages: envs.slice(i, i + 250).map(envelopeRecord) });
  await eventually(async () => (await searchAll(es, alias)).length > 200, 30_000, 50);
  await runner.stop();
  runner = await runService(elasticCommandService, env);
  await eventually(async () => (await searchAll(es, alias)).length === envs.length, 60_000, 300);
  const ids = new Set((await searchAll(es, alias)).map((d) => d._id));
  assert.equal(ids.size, envs.length);
});
