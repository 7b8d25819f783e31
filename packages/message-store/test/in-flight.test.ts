import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InFlight } from '../src/tables.js';

test('at most `max` run at once; the rest start in order as others finish, failures included', async () => {
  const limit = new InFlight(2);
  let active = 0;
  let peak = 0;
  const started: number[] = [];
  const job = (i: number) => () =>
    new Promise<number>((resolve, reject) => {
      started.push(i);
      active += 1;
      peak = Math.max(peak, active);
      setTimeout(() => {
        active -= 1;
        if (i === 1) reject(new Error('boom'));
        else resolve(i);
      }, 5);
    });
  const results = await Promise.allSettled([0, 1, 2, 3, 4].map((i) => limit.run(job(i))));
  assert.equal(peak, 2);
  assert.deepEqual(started, [0, 1, 2, 3, 4]);
  assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled', 'fulfilled', 'fulfilled']);
});
