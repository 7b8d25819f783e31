import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AckPolicy, StringCodec } from 'nats';
import { connectNats } from '../src/index.js';
import { infra, uniqueName, deferrer } from '@parley/test-support';

const sc = StringCodec();

test('nats: JetStream publish and durable pull consume', async (t) => {
  const defer = deferrer(t);
  const stream = uniqueName('T').toUpperCase();
  const subject = `${stream.toLowerCase()}.room.r1.msg`;
  const h = await connectNats({ url: infra.natsUrl, name: 'test' });
  defer(() => h.close());
  await h.health();
  const { js, jsm } = h.client;
  await jsm.streams.add({ name: stream, subjects: [subject] });
  defer(() => jsm.streams.delete(stream).then(() => undefined));

  for (let i = 0; i < 5; i++) {
    const ack = await js.publish(subject, sc.encode(`m${i}`), { msgID: `id-${i}` });
    assert.equal(ack.duplicate, false);
  }
  const dup = await js.publish(subject, sc.encode('m0 again'), { msgID: 'id-0' });
  assert.equal(dup.duplicate, true, 'msgID dedupes a retried publish');

  await jsm.consumers.add(stream, { durable_name: 'worker', ack_policy: AckPolicy.Explicit });
  const consumer = await js.consumers.get(stream, 'worker');
  const got: string[] = [];
  const batch = await consumer.fetch({ max_messages: 10, expires: 2000 });
  for await (const m of batch) {
    got.push(sc.decode(m.data));
    m.ack();
    if (got.length === 5) break;
  }
  assert.deepEqual(got, ['m0', 'm1', 'm2', 'm3', 'm4']);
  const info = await jsm.consumers.info(stream, 'worker');
  assert.equal(info.num_pending, 0);
});
