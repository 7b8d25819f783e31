import { test } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { ParleyError, parseInput } from '@parley/errors';
import { nameText } from '@parley/contracts';
import { silentLogger } from '@parley/log';
import { buildHttpApp, markClosing } from '../src/index.js';

function app(checks: Array<{ name: string; check: () => Promise<void>; critical?: boolean }> = []) {
  const a = buildHttpApp({ log: silentLogger(), bodyLimit: 64, healthChecks: checks, openapi: { title: 'test', description: 'a test app' } });
  a.post('/echo', async (req) => parseInput(z.strictObject({ name: nameText(1, 5) }), req.body, 'body'));
  a.get('/boom', async () => {
    throw new Error('secret detail from the database');
  });
  a.get('/db-down', async () => {
    throw Object.assign(new Error('connect ECONNREFUSED 10.1.2.3:5432'), { code: 'ECONNREFUSED' });
  });
  a.get('/gone', async () => {
    throw new ParleyError('NOT_FOUND', 'room not found');
  });
  return a;
}

test('errors share one JSON shape and never leak internals', async () => {
  const a = app();
  const cases: Array<[string, string, string | Buffer | undefined, number, string]> = [
    ['POST', '/echo', '{"name":"ab"}', 200, ''],
    ['POST', '/echo', '{"name":"ab","x":1}', 400, 'VALIDATION_FAILED'],
    ['POST', '/echo', '{"name":"abcdef"}', 400, 'VALIDATION_FAILED'],
    ['POST', '/echo', '{"name":', 400, 'VALIDATION_FAILED'],
    ['POST', '/echo', Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x7d]), 400, 'VALIDATION_FAILED'],
    ['POST', '/echo', `{"name":"${'x'.repeat(100)}"}`, 413, 'PAYLOAD_TOO_LARGE'],
    ['GET', '/boom', undefined, 500, 'INTERNAL'],
    ['GET', '/gone', undefined, 404, 'NOT_FOUND'],
    ['GET', '/db-down', undefined, 503, 'DEPENDENCY_UNAVAILABLE'],
    ['GET', '/nowhere', undefined, 404, 'NOT_FOUND'],
  ];
  for (const [method, url, payload, status, code] of cases) {
    const res = await a.inject({ method: method as 'GET' | 'POST', url, ...(payload !== undefined ? { payload, headers: { 'content-type': 'application/json' } } : {}) });
    assert.equal(res.statusCode, status, `${method} ${url}: ${res.body}`);
    if (code) assert.equal(res.json().error.code, code);
  }
  const boom = await a.inject({ method: 'GET', url: '/boom' });
  assert.doesNotMatch(boom.body, /secret detail/);
  const down = await a.inject({ method: 'GET', url: '/db-down' });
  assert.doesNotMatch(down.body, /10\.1\.2\.3/, 'a 503 does not reveal where the store lives');
  await a.close();
});

test('readiness runs the checks; a failing critical check is 503, a non-critical one is reported', async () => {
  const ok = app([{ name: 'db', check: async () => undefined }, { name: 'cache', check: () => Promise.reject(new Error('down')), critical: false }]);
  const r1 = await ok.inject({ method: 'GET', url: '/readyz' });
  assert.equal(r1.statusCode, 200);
  assert.deepEqual(r1.json().checks, { db: 'ok', cache: 'failing: down' });
  const bad = app([{ name: 'db', check: () => Promise.reject(new Error('refused')) }]);
  assert.equal((await bad.inject({ method: 'GET', url: '/readyz' })).statusCode, 503);
  assert.equal((await bad.inject({ method: 'GET', url: '/healthz' })).statusCode, 200);
  assert.equal((await ok.inject({ method: 'GET', url: '/openapi.json' })).json().openapi, '3.0.3');
  await Promise.all([ok.close(), bad.close()]);
});

test('a closing app answers 503 SHUTTING_DOWN', async () => {
  const a = app();
  markClosing(a);
  const res = await a.inject({ method: 'GET', url: '/healthz' });
  assert.equal(res.statusCode, 503);
  assert.equal(res.json().error.code, 'SHUTTING_DOWN');
  await a.close();
});

test('names refuse control characters, lone surrogates and surrounding spaces; length counts code points', () => {
  const n = nameText(1, 3);
  assert.equal(n.safeParse('🦊🦊🦊').success, true);
  for (const bad of ['', '🦊🦊🦊🦊', 'a\u0000', 'a\nb', '\ud800', ' a', 'a\u202e']) assert.equal(n.safeParse(bad).success, false, JSON.stringify(bad));
});
