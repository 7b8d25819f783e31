import { test } from 'node:test';
import assert from 'node:assert/strict';
import { silentLogger } from '@parley/log';
import { Counter, createMetricsRegistry } from '@parley/metrics';
import { OpsServer } from '../src/index.js';

test('the ops port serves the process metrics at /metrics beside health and readiness', async (t) => {
  const metrics = createMetricsRegistry('worker-svc');
  new Counter({ name: 'parley_test_things_total', help: 'things', registers: [metrics] }).inc(7);
  const ops = new OpsServer({ host: '127.0.0.1', port: 0, log: silentLogger(), checks: () => [], isStopping: () => false, metrics });
  await ops.start();
  t.after(() => ops.stop());
  const base = `http://127.0.0.1:${ops.port()}`;
  const res = await fetch(`${base}/metrics`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  const body = await res.text();
  assert.match(body, /^parley_test_things_total\{service="worker-svc"\} 7$/m);
  assert.match(body, /^nodejs_eventloop_lag_seconds\{service="worker-svc"\}/m);
  assert.equal((await fetch(`${base}/healthz`)).status, 200);
});
