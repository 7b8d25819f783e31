import { test } from 'node:test';
import assert from 'node:assert/strict';
import { silentLogger } from '@parley/log';
import { createMetricsRegistry } from '@parley/metrics';
import { buildHttpApp } from '../src/index.js';

test('requests are counted by method, route template and status, and /metrics serves them', async (t) => {
  const metrics = createMetricsRegistry('test-svc');
  const app = buildHttpApp({ log: silentLogger(), bodyLimit: 64, metrics, openapi: { title: 'test', description: 'a test app' } });
  app.get('/v1/rooms/:roomId', async () => ({ ok: true }));
  t.after(() => app.close());
  for (const id of ['a', 'b', 'c']) assert.equal((await app.inject({ method: 'GET', url: `/v1/rooms/${id}` })).statusCode, 200);
  assert.equal((await app.inject({ method: 'GET', url: '/nowhere/at/all' })).statusCode, 404);

  const res = await app.inject({ method: 'GET', url: '/metrics' });
  assert.equal(res.statusCode, 200);
  assert.match(String(res.headers['content-type']), /^text\/plain; version=0\.0\.4/);
  assert.match(res.body, /^parley_http_requests_total\{.*route="\/v1\/rooms\/:roomId".*\} 3$/m);
  assert.match(res.body, /^parley_http_request_duration_seconds_count\{.*route="\/v1\/rooms\/:roomId".*\} 3$/m);
  // A path no route owns is one series, whatever the path was.
  assert.match(res.body, /^parley_http_requests_total\{(?=.*route="unmatched")(?=.*code="404")(?=.*service="test-svc").*\} 1$/m);
  assert.doesNotMatch(res.body, /nowhere/);
  assert.match(res.body, /process_cpu_seconds_total/);

  // Operators' endpoint, not part of the API document.
  const doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json() as { paths: Record<string, unknown> };
  assert.equal(doc.paths['/metrics'], undefined);
});
