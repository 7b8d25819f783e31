import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connectNats, createElastic } from '@parley/clients';
import { bucketOf } from '@parley/envelope';
import { roomSubject } from '@parley/nats';
import { elasticNames, removeElasticTemplates } from '@parley/migrate';
import { infra, deferrer, eventually } from '@parley/test-support';
import {
  pipelineNames,
  pipelineEnv,
  runService,
  createTopics,
  collectTopic,
  makeEnvelopes,
  publishAll,
  migratedKeyspace,
  searchAll,
  headerString,
} from '@parley/test-support/pipeline';
import { ingestionService } from '../app.js';
import { cqlCommandService } from '@parley/chat-command-cql-svc/app';
import { elasticCommandService } from '@parley/chat-command-elastic-svc/app';

test('messages published to room subjects end up exactly once in Cassandra and in Elasticsearch, in per-room order', async (t) => {
  const defer = deferrer(t);
  const names = pipelineNames();
  const nats = await connectNats({ url: infra.natsUrl, name: 'e2e-test' });
  defer(() => nats.close());
  defer(() => nats.client.jsm.streams.delete(names.stream).catch(() => undefined));
  const ks = await migratedKeyspace(names.keyspace);
  defer(ks.drop);
  const es = createElastic({ url: infra.elasticsearchUrl });
  defer(() => es.close());
  defer(() => removeElasticTemplates(es.client, names.esPrefix));
  const topics = await createTopics(names);
  defer(topics.drop);
  const dlq = await collectTopic(topics.kafka, names.dlqTopic);
  defer(dlq.stop);

  const env = pipelineEnv(names);
  const cql = await runService(cqlCommandService, { ...env, KAFKA_GROUP_ID: names.cqlGroup });
  defer(() => cql.stop());
  const search = await runService(elasticCommandService, { ...env, KAFKA_GROUP_ID: names.esGroup });
  defer(() => search.stop());
  const ingestion = await runService(ingestionService, env);
  defer(() => ingestion.stop());

  const rooms = ['alpha', 'beta', 'gamma'];
  const envs = makeEnvelopes(600, rooms);
  await publishAll(nats.client.js, names.prefix, envs.slice(0, 300));
  // A room-lifecycle-shaped event on a message subject (the original's ingestion killer).
  await nats.client.js.publish(roomSubject('alpha', names.prefix), JSON.stringify({ type: 'room_created', room: 'alpha' }));
  await publishAll(nats.client.js, names.prefix, envs.slice(300));

  const alias = elasticNames(names.esPrefix).alias;
  const cqlIds = async (room: string) => {
    const buckets = [...new Set(envs.filter((e) => e.room_id === room).map((e) => bucketOf(BigInt(e.id))))];
    const rs = await ks.client.execute(`SELECT id FROM ${names.keyspace}.messages WHERE room_id = ? AND bucket IN ?`, [room, buckets], { prepare: true, fetchSize: 10_000 });
    return rs.rows.map((r) => r.get('id').toString() as string);
  };
  await eventually(async () => {
    const counts = await Promise.all(rooms.map(async (r) => (await cqlIds(r)).length));
    return counts.reduce((a, b) => a + b, 0) === envs.length && (await searchAll(es.client, alias)).length === envs.length;
  }, 60_000, 300);

  const docs = await searchAll(es.client, alias);
  for (const room of rooms) {
    const want = envs.filter((e) => e.room_id === room).map((e) => e.id);
    assert.deepEqual((await cqlIds(room)).reverse(), want, `cassandra: room ${room} once each, in order`);
    assert.deepEqual(docs.filter((d) => d.room_id === room).map((d) => d._id), want, `elasticsearch: room ${room} once each, in order`);
  }
  await eventually(async () => dlq.records.length === 1);
  assert.equal(headerString(dlq.records[0]!, 'dlq-reason'), 'invalid_field');
});
