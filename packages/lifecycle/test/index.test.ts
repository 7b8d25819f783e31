import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Runner, checkReadiness, component, sleep } from '../src/index.js';

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

test('provide hands a started product to later components and takes it back on stop', async () => {
  const runner = new Runner();
  const stopped: string[] = [];
  const conn = runner.provide('conn', async () => ({ id: 7 }), async (c) => void stopped.push(`conn ${c.id}`));
  assert.throws(() => conn.value, /conn is not running/);
  const user = runner.provide('user', async () => `uses ${conn.value.id}`, async (u) => void stopped.push(u));
  await runner.start();
  assert.equal(user.value, 'uses 7');
  await runner.stop();
  assert.deepEqual(stopped, ['uses 7', 'conn 7'], 'reverse order, each with its own product');
  assert.equal(conn.current, undefined);
});

test('fail() stops within the configured stop timeout, not a built-in one', async () => {
  const runner = new Runner({ stopTimeoutMs: 200 });
  let aborted = -1;
  const t0 = Date.now();
  runner.add(component('stuck', () => undefined, (signal) => new Promise<void>((resolve) => signal.addEventListener('abort', () => ((aborted = Date.now() - t0), resolve()), { once: true }))));
  await runner.start();
  // AbortSignal.timeout does not keep the loop alive on its own; a real process has its servers.
  const alive = setInterval(() => undefined, 1000);
  runner.fail('stuck', new Error('boom'));
  await runner.wait();
  clearInterval(alive);
  assert.ok(aborted >= 150 && aborted < 2000, `stop signal aborted after ${aborted} ms`);
  assert.equal(runner.isStopping, true);
});

test('checkReadiness: a failing critical check makes it unready, a non-critical one does not, a hung one times out', async () => {
  const ok = { name: 'a', check: async () => undefined };
  const soft = { name: 'b', check: async () => Promise.reject(new Error('down')), critical: false };
  const hung = { name: 'c', check: () => new Promise<void>(() => undefined) };
  assert.deepEqual(await checkReadiness([ok, soft]), { ready: true, checks: { a: 'ok', b: 'failing: down' } });
  assert.deepEqual(await checkReadiness([ok, hung], 50), { ready: false, checks: { a: 'ok', c: 'failing: no answer within 50 ms' } });
});
