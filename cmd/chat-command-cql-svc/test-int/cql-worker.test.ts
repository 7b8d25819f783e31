import { test } from 'node:test';
import assert from 'node:assert/strict';
import type cassandra from 'cassandra-driver';
import { bucketOf, envelopeRecord, type Envelope } from '@parley/envelope';
import { deferrer, eventually } from '@parley/test-support';
import {
  pipelineNames,
  pipelineEnv,
  runService,
  createTopics,
  collectTopic,
  makeEnvelopes,
  headerString,
  migratedKeyspace,
  poisonValues,
} from '@parley/test-support/pipeline';
import { cqlCommandService } from '../app.js';

async function setup(t: Parameters<typeof deferrer>[0]) {
  const defer = deferrer(t);
  const names = pipelineNames();
  const ks = await migratedKeyspace(names.keyspace);
  defer(ks.drop);
  const topics = await createTopics(names);
  defer(topics.drop);
  const producer = topics.kafka.producer();
  await producer.connect();
  defer(() => producer.disconnect());
  const dlq = await collectTopic(topics.kafka, names.dlqTopic);
  defer(dlq.stop);
  const env = pipelineEnv(names, { KAFKA_GROUP_ID: names.cqlGroup, CQL_MAX_BATCH: '50' });
  return { defer, names, ks, producer, dlq, env };
}

async function rowsOf(client: cassandra.Client, keyspace: string, envs: Envelope[]): Promise<Map<string, bigint[]>> {
  const out = new Map<string, bigint[]>();
  const partitions = new Set(envs.map((e) => `${e.room_id}|${bucketOf(BigInt(e.id))}`));
  for (const p of partitions) {
    const [room, bucket] = p.split('|');
    const rs = await client.execute(`SELECT id FROM ${keyspace}.messages WHERE room_id = ? AND bucket = ?`, [room, Number(bucket)], { prepare: true, fetchSize: 100_000 });
    out.set(room!, [...(out.get(room!) ?? []), ...rs.rows.map((r) => BigInt(r.get('id').toString()))]);
  }
  return out;
}

function total(rows: Map<string, bigint[]>): number {
  return [...rows.values()].reduce((n, ids) => n + ids.length, 0);
}

test('records are upserted once each, newest first per room; poison goes to the DLQ and the partition moves on', async (t) => {
  const { defer, names, ks, producer, dlq, env } = await setup(t);
  const envs = makeEnvelopes(200, ['r1', 'r2', 'r3']);
  const poison = poisonValues(envs[0]!);
  // Poison in the middle of r1's partition, good records on both sides, one duplicate replay.
  const records = [
    ...envs.slice(0, 100).map(envelopeRecord),
    ...poison.map(([, value]) => ({ key: Buffer.from('r1'), value })),
    ...envs.slice(100).map(envelopeRecord),
    envelopeRecord(envs[5]!),
  ];
  await producer.send({ topic: names.topic, messages: records });
  const runner = await runService(cqlCommandService, env);
  defer(() => runner.stop());

  await eventually(async () => total(await rowsOf(ks.client, names.keyspace, envs)) === envs.length && dlq.records.length >= poison.length, 45_000, 250);
  const rows = await rowsOf(ks.client, names.keyspace, envs);
  for (const room of ['r1', 'r2', 'r3']) {
    const want = envs.filter((e) => e.room_id === room).map((e) => BigInt(e.id)).reverse();
    assert.deepEqual(rows.get(room), want, `room ${room}: every message once, newest first`);
  }
  assert.deepEqual(dlq.records.map((r) => headerString(r, 'dlq-reason')).sort(), poison.map(([r]) => r).sort());
  for (const r of dlq.records) {
    assert.match(headerString(r, 'dlq-source') ?? '', new RegExp(`^kafka:${names.topic.replace(/\./g, '\\.')}:\\d+:\\d+$`));
    assert.equal(headerString(r, 'dlq-service'), 'chat-command-cql-svc');
  }
  const row = (await ks.client.execute(`SELECT * FROM ${names.keyspace}.messages WHERE room_id = ? AND bucket = ? AND id = ?`, ['r1', bucketOf(BigInt(envs[0]!.id)), envs[0]!.id], { prepare: true })).first();
  assert.equal(row.get('body'), envs[0]!.body);
  assert.equal(row.get('sender_name'), envs[0]!.sender_name);
  assert.equal((row.get('created_at') as Date).getTime(), envs[0]!.created_at);
});

test('a worker stopped mid-stream and restarted loses nothing', async (t) => {
  const { defer, names, ks, producer, env } = await setup(t);
  const envs = makeEnvelopes(2000, ['r1', 'r2', 'r3', 'r4']);
  let runner = await runService(cqlCommandService, env);
  defer(() => runner.stop());
  for (let i = 0; i < envs.length; i += 250) await producer.send({ topic: names.topic, messages: envs.slice(i, i + 250).map(envelopeRecord) });
  await eventually(async () => total(await rowsOf(ks.client, names.keyspace, envs)) > 200, 30_000, 50);
  await runner.stop();
  runner = await runService(cqlCommandService, env);
  await eventually(async () => total(await rowsOf(ks.client, names.keyspace, envs)) === envs.length, 60_000, 250);
  const rows = await rowsOf(ks.client, names.keyspace, envs);
  assert.equal(new Set([...rows.values()].flat()).size, envs.length);
});
