import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRedis } from '../src/index.js';
import { infra, uniqueName, deferrer } from '@parley/test-support';

test('redis: a command round trip under a private key prefix', async (t) => {
  const defer = deferrer(t);
  const prefix = `${uniqueName('t')}:`;
  const redis = createRedis({ url: infra.redisUrl, keyPrefix: prefix });
  defer(() => redis.close());
  await redis.health();
  await redis.client.set('k', 'v', 'EX', 60);
  assert.equal(await redis.client.get('k'), 'v');
  assert.equal(await redis.client.incr('n'), 1);
  assert.equal(await redis.client.incr('n'), 2);
  await redis.client.del('k', 'n');
});

test('redis: a dead server fails fast instead of queueing', async (t) => {
  const defer = deferrer(t);
  const redis = createRedis({ url: 'redis://127.0.0.1:1/0', onError: () => undefined });
  defer(() => redis.close());
  const t0 = Date.now();
  await assert.rejects(redis.client.get('k'));
  assert.ok(Date.now() - t0 < 3000);
  await assert.rejects(redis.health());
});
