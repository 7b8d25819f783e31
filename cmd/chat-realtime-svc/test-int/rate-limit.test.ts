import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRedis } from '@parley/clients';
import { deferrer, freePort, infra, uniqueName } from '@parley/test-support';
import { RedisRateLimiter } from '../src/rate-limit.js';

const limits = (perUser: number, perIp: number, windowSeconds = 10) => ({ send: { perUser, perIp, windowSeconds }, join: { perUser: 100, perIp: 100, windowSeconds } });

test('one script counts the user and the IP window: either over its limit refuses, and the window expires', async (t) => {
  const defer = deferrer(t);
  const prefix = `${uniqueName('rl')}:`;
  const redis = createRedis({ url: infra.redisUrl, keyPrefix: prefix });
  defer(() => redis.close());
  await redis.health();
  const limiter = new RedisRateLimiter(redis.client, limits(2, 3));

  assert.equal((await limiter.hit('send', 'alice', '10.0.0.1')).allowed, true);
  assert.equal((await limiter.hit('send', 'alice', '10.0.0.1')).allowed, true);
  const third = await limiter.hit('send', 'alice', '10.0.0.1');
  assert.equal(third.allowed, false, 'alice is over her own limit');
  assert.ok(third.retryAfterMs > 0 && third.retryAfterMs <= 10_000, `retryAfterMs = ${third.retryAfterMs}`);
  // bob is fresh, but the shared address already counted three.
  assert.equal((await limiter.hit('send', 'bob', '10.0.0.1')).allowed, false, 'the IP window is over its limit');
  assert.equal((await limiter.hit('send', 'bob', '10.0.0.2')).allowed, true, 'another address is counted apart');
  assert.equal((await limiter.hit('join', 'alice', '10.0.0.1')).allowed, true, 'joins have their own windows');

  const keys = await redis.client.keys(`${prefix}rl:send:*`);
  assert.equal(keys.length, 4, keys.join(', '));
  for (const k of keys) {
    const ttl = await redis.client.ttl(k.slice(prefix.length));
    assert.ok(ttl > 0 && ttl <= 10, `${k} expires within the window (ttl ${ttl})`);
  }
});

test('a second limiter on the same client shares the script; Redis away fails open and reports', async (t) => {
  const defer = deferrer(t);
  const redis = createRedis({ url: infra.redisUrl, keyPrefix: `${uniqueName('rl')}:` });
  defer(() => redis.close());
  await redis.health();
  const a = new RedisRateLimiter(redis.client, limits(1, 100));
  const b = new RedisRateLimiter(redis.client, limits(1, 100));
  assert.equal((await a.hit('send', 'carol', '10.0.0.9')).allowed, true);
  assert.equal((await b.hit('send', 'carol', '10.0.0.9')).allowed, false, 'both count in the same window');

  const dead = createRedis({ url: `redis://127.0.0.1:${await freePort()}`, onError: () => undefined });
  defer(() => dead.close());
  const errors: unknown[] = [];
  const open = new RedisRateLimiter(dead.client, limits(0, 0), (err) => errors.push(err));
  assert.deepEqual(await open.hit('send', 'dave', '10.0.0.3'), { allowed: true, retryAfterMs: 0 });
  assert.equal(errors.length, 1);
});
