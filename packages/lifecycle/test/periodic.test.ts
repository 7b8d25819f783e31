import { test } from 'node:test';
import assert from 'node:assert/strict';
import { periodic, sleep } from '../src/index.js';

test('runs after each pause, never overlapping, reports failures and goes on; stop ends the run in progress', async () => {
  const events: string[] = [];
  let running = 0;
  let runs = 0;
  const task = periodic({
    name: 'p',
    everyMs: 20,
    run: async (signal) => {
      running += 1;
      assert.equal(running, 1, 'one run at a time');
      runs += 1;
      try {
        if (runs === 2) throw new Error('boom');
        await sleep(30, signal);
      } finally {
        running -= 1;
      }
    },
    onError: (err) => events.push((err as Error).message),
  });
  await task.start(new AbortController().signal);
  assert.equal(runs, 0, 'the first run waits one pause');
  await sleep(250);
  await task.stop(AbortSignal.timeout(1000));
  const after = runs;
  assert.ok(after >= 3, `ran ${after} times`);
  assert.deepEqual(events, ['boom'], 'a run cut short by stop is not a failure');
  await sleep(60);
  assert.equal(runs, after, 'nothing runs after stop');
});
