import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connectNats } from '@parley/clients';
import { decodeEnvelope, encodeEnvelope, type Envelope } from '@parley/envelope';
import { roomSubject } from '@parley/nats';
import { infra, deferrer, eventually } from '@parley/test-support';
import { pipelineNames, pipelineEnv, runService, createTopics, collectTopic, makeEnvelopes, publishAll, headerString } from '@parley/test-support/pipeline';
import { ingestionService } from '../app.js';

async function setup(t: Parameters<typeof deferrer>[0]) {
  const defer = deferrer(t);
  const names = pipelineNames();
  const nats = await connectNats({ url: infra.natsUrl, name: 'ingestion-test' });
  defer(() => nats.close());
  defer(() => nats.client.jsm.streams.delete(names.stream).catch(() => undefined));
  const topics = await createTopics(names);
  defer(topics.drop);
  const out = await collectTopic(topics.kafka, names.topic);
  defer(out.stop);
  const dlq = await collectTopic(topics.kafka, names.dlqTopic);
  defer(dlq.stop);
  return { defer, names, nats, out, dlq, env: pipelineEnv(names) };
}

test('messages reach Kafka once each, keyed by room, in per-room order; poison is dead-lettered without blocking', async (t) => {
  const { defer, names, nats, out, dlq, env } = await setup(t);
  const runner = await runService(ingestionService, { ...env, INGESTION_BUFFER: '64', INGESTION_BATCH_MAX: '20' });
  defer(() => runner.stop());

  const rooms = ['r1', 'r2', 'r3', 'r4', 'r5'];
  const envs = makeEnvelopes(300, rooms);
  const [first, second] = [envs.slice(0, 150), envs.slice(150)];
  await publishAll(nats.client.js, names.prefix, first);
  const valid = first[0]!;
  const poison: Array<[string, string | Uint8Array]> = [
    ['bad_json', '{"v":1,"id":'],
    ['unsupported_version', JSON.stringify({ ...valid, v: 2 })],
    ['invalid_field', JSON.stringify({ ...valid, body: undefined })],
    ['body_too_large', encodeEnvelope({ ...valid, body: 'x'.repeat(4097) })],
  ];
  for (const [, data] of poison) await nats.client.js.publish(roomSubject('r1', names.prefix), data);
  await publishAll(nats.client.js, names.prefix, second);

  await eventually(async () => out.records.length >= envs.length && dlq.records.length >= poison.length, 30_000);
  const got = out.records.map((r) => ({ env: decodeEnvelope(r.value!), r }));
  assert.equal(got.length, envs.length, 'each message exactly once');
  assert.deepEqual(new Set(got.map((g) => g.env.id)), new Set(envs.map((e) => e.id)));
  for (const { env, r } of got) {
    assert.equal(r.key?.toString(), env.room_id);
    assert.equal(headerString(r, 'v'), '1');
  }
  for (const room of rooms) {
    const ids = got.filter((g) => g.env.room_id === room).map((g) => BigInt(g.env.id));
    assert.deepEqual(ids, [...ids].sort((a, b) => (a < b ? -1 : 1)), `room ${room} in order`);
    assert.equal(new Set(got.filter((g) => g.env.room_id === room).map((g) => g.r.partition)).size, 1, 'one partition per room');
  }
  assert.deepEqual(dlq.records.map((r) => headerString(r, 'dlq-reason')).sort(), poison.map(([reason]) => reason).sort());
  for (const r of dlq.records) assert.match(headerString(r, 'dlq-source') ?? '', new RegExp(`^nats:${names.stream}:\\d+:`));
  for (const r of dlq.records) assert.equal(r.key?.toString(), 'r1', 'keyed by the room its subject names');

  const info = await nats.client.jsm.consumers.info(names.stream, names.durable);
  assert.equal(info.config.max_ack_pending, 64, 'the in-flight buffer is bounded by the server');
  await eventually(async () => (await nats.client.jsm.consumers.info(names.stream, names.durable)).num_ack_pending === 0);
});

test('two instances share the work, and one stopped mid-stream and restarted loses nothing', async (t) => {
  const { defer, names, nats, out, env } = await setup(t);
  let a = await runService(ingestionService, env);
  defer(() => a.stop());
  const b = await runService(ingestionService, env);
  defer(() => b.stop());

  const envs: Envelope[] = makeEnvelopes(3000, ['r1', 'r2', 'r3', 'r4']);
  const publishing = publishAll(nats.client.js, names.prefix, envs);
  await eventually(async () => out.records.length > 300, 30_000, 20);
  await a.stop();
  await eventually(async () => out.records.length > 1500, 30_000, 20);
  a = await runService(ingestionService, env);
  await publishing;

  await eventually(async () => new Set(out.records.map((r) => decodeEnvelope(r.value!).id)).size === envs.length, 60_000);
  const ids = new Set(out.records.map((r) => decodeEnvelope(r.value!).id));
  for (const e of envs) assert.ok(ids.has(e.id), `missing ${e.id}`);
  await eventually(async () => (await nats.client.jsm.consumers.info(names.stream, names.durable)).num_ack_pending === 0);
});
