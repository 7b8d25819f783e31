import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Runner, component, sleep } from '../src/index.js';

function recorder() {
  const log: string[] = [];
  const mk = (name: string, opts: { failStart?: boolean; hangStop?: boolean } = {}) =>
    component(
      name,
      () => {
        if (opts.failStart) throw new Error(`${name} cannot start`);
        log.push(`start ${name}`);
      },
      async (signal) => {
        if (opts.hangStop) await sleep(60_000, signal).catch(() => undefined);
        log.push(`stop ${name}`);
      },
    );
  return { log, mk };
}

test('starts in order and stops in reverse order', async () => {
  const { log, mk } = recorder();
  const r = new Runner().add(mk('a')).add(mk('b')).add(mk('c'));
  await r.start();
  await r.stop();
  assert.deepEqual(log, ['start a', 'start b', 'start c', 'stop c', 'stop b', 'stop a']);
});

test('a failed start stops what was started and rethrows', async () => {
  const { log, mk } = recorder();
  const r = new Runner().add(mk('a')).add(mk('b', { failStart: true })).add(mk('c'));
  await assert.rejects(r.start(), /component b failed to start: b cannot start/);
  assert.deepEqual(log, ['start a', 'stop a']);
});

test('stop is idempotent and bounded by the deadline', async () => {
  const { log, mk } = recorder();
  const errors: string[] = [];
  const r = new Runner({ onStopError: (n) => errors.push(n) }).add(mk('a')).add(mk('slow', { hangStop: true }));
  await r.start();
  const t0 = Date.now();
  const p1 = r.stop(200);
  const p2 = r.stop(200);
  assert.equal(p1, p2);
  await p1;
  assert.ok(Date.now() - t0 < 2000, 'deadline respected');
  assert.deepEqual(errors, ['slow']);
  assert.ok(log.includes('stop a'), 'later components still stopped after a deadline miss');
  await r.wait();
});

test('fail() stops the runner', async () => {
  const { log, mk } = recorder();
  const fatal: string[] = [];
  const r = new Runner({ onFatal: (n) => fatal.push(n) }).add(mk('a'));
  await r.start();
  r.fail('consumer', new Error('crashed'));
  await r.wait();
  assert.deepEqual(fatal, ['consumer']);
  assert.deepEqual(log, ['start a', 'stop a']);
});

test('sleep can be aborted', async () => {
  const ac = new AbortController();
  const p = sleep(10_000, ac.signal);
  ac.abort(new Error('cancelled'));
  await assert.rejects(p, /cancelled/);
});
