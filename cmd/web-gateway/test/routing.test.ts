import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseTrustedProxies, PROXY_SECRET_HEADER } from '@parley/access';
import { forwardHeaders, matchRoute, upgradeRequestHead, type Forwarding } from '../src/proxy.js';
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

const edge: Forwarding = { trustedProxies: parseTrustedProxies(''), proxySecret: '' };
const SECRET = 'a1b2c3d4e5f60718293a4b5c';

test('hop-by-hop headers are dropped and the upstream host is set', () => {
  const out = forwardHeaders({ host: 'web:8080', connection: 'keep-alive, x-secret-hop', 'x-secret-hop': '1', cookie: 'parley_session=t', 'transfer-encoding': 'chunked' }, '10.0.0.9', new URL('http://127.0.0.1:8002'), edge);
  assert.equal(out.host, '127.0.0.1:8002');
  assert.equal(out.cookie, 'parley_session=t');
  assert.equal(out['x-forwarded-for'], '10.0.0.9');
  assert.equal(out['x-forwarded-host'], 'web:8080');
  assert.equal(out['x-forwarded-proto'], 'http');
  for (const h of ['connection', 'x-secret-hop', 'transfer-encoding', PROXY_SECRET_HEADER]) assert.equal(out[h], undefined, h);
});

test('the client names neither its address nor the proxy secret: the gateway writes both', () => {
  const forged = { host: 'web:8080', 'x-forwarded-for': '198.51.100.77', 'x-forwarded-proto': 'https', [PROXY_SECRET_HEADER]: 'guessed-guessed-guessed' };
  const withSecret: Forwarding = { ...edge, proxySecret: SECRET };
  const out = forwardHeaders(forged, '::ffff:127.0.0.2', new URL('http://127.0.0.1:8001'), withSecret);
  assert.equal(out['x-forwarded-for'], '127.0.0.2', 'the peer, not the forged list with the peer appended');
  assert.equal(out['x-forwarded-proto'], 'http');
  assert.equal(out[PROXY_SECRET_HEADER], SECRET);
  const none = forwardHeaders(forged, '127.0.0.2', new URL('http://127.0.0.1:8001'), edge);
  assert.equal(none[PROXY_SECRET_HEADER], undefined, 'without a secret of its own the gateway forwards none');
  // Behind a trusted load balancer the gateway believes the balancer's entry, and sends one address.
  const behindLb: Forwarding = { trustedProxies: parseTrustedProxies('10.0.0.0/8'), proxySecret: SECRET };
  assert.equal(forwardHeaders({ 'x-forwarded-for': '1.1.1.1, 203.0.113.7' }, '10.0.0.5', new URL('http://u:1'), behindLb)['x-forwarded-for'], '203.0.113.7');
  assert.equal(forwardHeaders({ 'x-forwarded-for': '203.0.113.7' }, '198.51.100.1', new URL('http://u:1'), behindLb)['x-forwarded-for'], '198.51.100.1');
});

test('a tunnelled upgrade request carries the same forwarding headers, and only once', () => {
  const rawHeaders = ['Host', 'web:8080', 'Upgrade', 'websocket', 'X-Forwarded-For', '198.51.100.77', 'X-Parley-Proxy-Secret', 'guessed-guessed-guessed', 'Cookie', 'parley_session=t'];
  const req = { method: 'GET', rawHeaders, headers: { host: 'web:8080', upgrade: 'websocket', 'x-forwarded-for': '198.51.100.77', [PROXY_SECRET_HEADER]: 'guessed-guessed-guessed', cookie: 'parley_session=t' }, socket: { remoteAddress: '127.0.0.3' } };
  const head = upgradeRequestHead(req as unknown as Parameters<typeof upgradeRequestHead>[0], '/v1/rooms/r1/ws', new URL('http://127.0.0.1:8003'), { ...edge, proxySecret: SECRET });
  const lines = head.split('\r\n');
  assert.equal(lines[0], 'GET /v1/rooms/r1/ws HTTP/1.1');
  assert.ok(head.endsWith('\r\n\r\n'));
  const values = (name: string) => lines.filter((l) => l.toLowerCase().startsWith(`${name}:`)).map((l) => l.slice(name.length + 1).trim());
  assert.deepEqual(values('host'), ['127.0.0.1:8003']);
  assert.deepEqual(values('x-forwarded-for'), ['127.0.0.3']);
  assert.deepEqual(values(PROXY_SECRET_HEADER), [SECRET]);
  assert.deepEqual(values('cookie'), ['parley_session=t']);
  assert.deepEqual(values('upgrade'), ['websocket']);
});

test('static paths never leave the web root', () => {
  const files = new StaticFiles('/srv/web');
  assert.equal(files.resolvePath('/'), '/srv/web/index.html');
  assert.equal(files.resolvePath('/app.js?v=1'), '/srv/web/app.js');
  for (const bad of ['/../etc/passwd', '/%2e%2e/etc/passwd', '/a/../../x', '/.git/config', '/x%00.js', '/..%5cx', '/%E0%A4%A']) {
    assert.equal(files.resolvePath(bad), undefined, bad);
  }
});

test("the services' metrics and the operator API are not reachable through the gateway", async () => {
  const { isOperatorPath } = await import('../src/gateway.js');
  for (const p of ['/metrics', '/metrics?x=1', '/v1/admin', '/v1/admin/erasures', '/v1/admin/erasures?x']) assert.equal(isOperatorPath(p), true, p);
  for (const p of ['/v1/mentions', '/v1/rooms/x/messages', '/v1/administrators', '/metricsx']) assert.equal(isOperatorPath(p), false, p);
});

test("the edge's REST (presence) has a prefix of its own; /ws is for upgrades only", async () => {
  const { restRoutes } = await import('../app.js');
  const u = (port: number) => new URL(`http://127.0.0.1:${port}`);
  const all = restRoutes({ userSvcUrl: u(1), roomSvcUrl: u(2), querySvcUrl: u(4), realtimeUrl: u(3) });
  const target = matchRoute(all, '/api/realtime/v1/rooms/r1/presence');
  assert.equal(target?.route.upstream.port, '3');
  assert.equal(target?.path, '/v1/rooms/r1/presence');
  assert.equal(matchRoute(all, '/ws/v1/rooms/r1/ws'), undefined);
});
