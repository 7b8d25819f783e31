import { test } from 'node:test';
import assert from 'node:assert/strict';
import { forwardHeaders, matchRoute } from '../src/proxy.js';
import { StaticFiles } from '../src/static-files.js';

const routes = [
  { prefix: '/api/users', upstream: new URL('http://127.0.0.1:8001') },
  { prefix: '/api/rooms', upstream: new URL('http://127.0.0.1:8002') },
];

test('a prefix is stripped and the rest of the path and query kept', () => {
  assert.deepEqual(matchRoute(routes, '/api/rooms/v1/rooms?scope=mine')?.path, '/v1/rooms?scope=mine');
  assert.equal(matchRoute(routes, '/api/users')?.path, '/');
  assert.equal(matchRoute(routes, '/api/users?x=1')?.path, '/?x=1');
});

test('a prefix only matches at a path boundary', () => {
  assert.equal(matchRoute(routes, '/api/usersx/v1/me'), undefined);
  assert.equal(matchRoute(routes, '/api/query/v1/x'), undefined);
  assert.equal(matchRoute(routes, '/'), undefined);
});

test('hop-by-hop headers are dropped and the upstream host is set', () => {
  const out = forwardHeaders({ host: 'web:8080', connection: 'keep-alive, x-secret-hop', 'x-secret-hop': '1', cookie: 'parley_session=t', 'transfer-encoding': 'chunked' }, '10.0.0.9', new URL('http://127.0.0.1:8002'));
  assert.equal(out.host, '127.0.0.1:8002');
  assert.equal(out.cookie, 'parley_session=t');
  assert.equal(out['x-forwarded-for'], '10.0.0.9');
  assert.equal(out['x-forwarded-host'], 'web:8080');
  for (const h of ['connection', 'x-secret-hop', 'transfer-encoding']) assert.equal(out[h], undefined, h);
});

test('static paths never leave the web root', () => {
  const files = new StaticFiles('/srv/web');
  assert.equal(files.resolvePath('/'), '/srv/web/index.html');
  assert.equal(files.resolvePath('/app.js?v=1'), '/srv/web/app.js');
  for (const bad of ['/../etc/passwd', '/%2e%2e/etc/passwd', '/a/../../x', '/.git/config', '/x%00.js', '/..%5cx', '/%E0%A4%A']) {
    assert.equal(files.resolvePath(bad), undefined, bad);
  }
});
