import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connectNats } from '@parley/clients';
import { infra, uniqueName, deferrer, eventually } from '@parley/test-support';
import { instanceOf } from '@parley/envelope';
import { InstanceLease } from '../src/index.js';

test('two leasers get different numbers; released and expired numbers are reused', async (t) => {
  const defer = deferrer(t);
  const nats = await connectNats({ url: infra.natsUrl, name: 'lease-test' });
  defer(() => nats.close());
  const bucket = uniqueName('lease');
  defer(() => nats.client.jsm.streams.delete(`KV_${bucket}`));
  const opts = { js: nats.client.js, bucket, ttlMs: 1500 };

  const a = new InstanceLease({ ...opts, holder: 'a' });
  const b = new InstanceLease({ ...opts, holder: 'b' });
  await a.start(AbortSignal.timeout(5000));
  await b.start(AbortSignal.timeout(5000));
  assert.notEqual(a.instance, b.instance);
  const id = a.snowflake().next();
  assert.equal(instanceOf(id), a.instance);

  // Refreshes keep the lease alive well past one TTL.
  await new Promise((r) => setTimeout(r, 2500));
  assert.doesNotThrow(() => a.instance);

  // A released number can be taken again at once.
  const n = a.instance;
  await a.stop();
  const kv = await nats.client.js.views.kv(bucket);
  await kv.create(`instance.${n}`, 'other');

  // An abandoned lease (its holder stopped refreshing without releasing) expires with the TTL.
  const held = b.instance;
  (b as unknown as { timer: NodeJS.Timeout }).timer.close();
  await eventually(async () => {
    try {
      await kv.create(`instance.${held}`, 'c');
      return true;
    } catch {
      return false;
    }
  }, 10_000, 200);
  assert.throws(() => b.instance, /could not be refreshed/);
});

test('a lease whose entry vanished (expired while NATS was away) is taken again; one taken by another is lost', async (t) => {
  const defer = deferrer(t);
  const nats = await connectNats({ url: infra.natsUrl, name: 'lease-test' });
  defer(() => nats.close());
  const bucket = uniqueName('lease');
  defer(() => nats.client.jsm.streams.delete(`KV_${bucket}`));
  const lost: unknown[] = [];
  const a = new InstanceLease({ js: nats.client.js, bucket, ttlMs: 900, holder: 'a', onLost: (err) => lost.push(err) });
  await a.start(AbortSignal.timeout(5000));
  defer(() => a.stop());
  const n = a.instance;
  const kv = await nats.client.js.views.kv(bucket);
  await kv.purge(`instance.${n}`);
  await eventually(async () => (await kv.get(`instance.${n}`))?.string() === 'a', 5000, 50);
  assert.equal(a.instance, n, 'the same number, held again');
  assert.deepEqual(lost, []);

  await kv.purge(`instance.${n}`);
  await kv.create(`instance.${n}`, 'someone else');
  await eventually(async () => lost.length === 1, 5000, 50);
  assert.throws(() => a.instance, /taken by another holder/);
});
