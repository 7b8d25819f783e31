import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createKafka } from '../src/index.js';
import { infra, uniqueName, deferrer, eventually } from '@parley/test-support';

test('kafka: produce with acks=all and consume in a group', async (t) => {
  const defer = deferrer(t);
  const topic = uniqueName('t').replace(/_/g, '.');
  const h = createKafka({ brokers: infra.kafkaBrokers, clientId: 'test' });
  defer(() => h.close());
  await h.health();
  const admin = h.client.admin();
  await admin.connect();
  defer(() => admin.disconnect());
  await admin.createTopics({ topics: [{ topic, numPartitions: 3, replicationFactor: 1 }], waitForLeaders: true });
  defer(() => admin.deleteTopics({ topics: [topic] }));

  const producer = h.client.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  defer(() => producer.disconnect());
  const sent = Array.from({ length: 20 }, (_, i) => ({ key: `room-${i % 4}`, value: `m${i}` }));
  const meta = await producer.send({ topic, acks: -1, messages: sent });
  assert.ok(meta.every((m) => m.errorCode === 0));

  const consumer = h.client.consumer({ groupId: uniqueName('g') });
  await consumer.connect();
  defer(() => consumer.disconnect());
  await consumer.subscribe({ topic, fromBeginning: true });
  const got: Array<{ key: string; value: string; partition: number }> = [];
  await consumer.run({
    eachMessage: async ({ message, partition }) => {
      got.push({ key: message.key!.toString(), value: message.value!.toString(), partition });
    },
  });
  await eventually(async () => got.length === sent.length, 30_000);
  // Same key, same partition, in send order: the property per-room ordering rests on.
  for (const key of new Set(sent.map((s) => s.key))) {
    const mine = got.filter((g) => g.key === key);
    assert.equal(new Set(mine.map((g) => g.partition)).size, 1, `${key} stayed on one partition`);
    assert.deepEqual(mine.map((g) => g.value), sent.filter((s) => s.key === key).map((s) => s.value));
  }
});
