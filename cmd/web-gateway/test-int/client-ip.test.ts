import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import { createRedis } from '@parley/clients';
import { PROXY_SECRET_HEADER } from '@parley/access';
import { startService } from '@parley/service';
import { infra, freePort, deferrer } from '@parley/test-support';
import { startUserSvc, newUser } from '@parley/test-support/user-svc';
import { startStack } from '@parley/test-support/realtime-svc';
import { webGatewayService } from '../app.js';

/**
 * Who the per-IP limits count, set up as scripts/services.sh runs it: everything on one host,
 * user-svc and the edge trusting 127.0.0.1/::1 only with the proxy secret, web-gateway holding
 * that secret. A client on the same host is not the gateway, whatever it writes in
 * X-Forwarded-For. Linux routes all of 127.0.0.0/8 to loopback, so a client that binds
 * 127.0.0.2 or 127.0.0.3 is a client the gateway can tell apart from itself.
 */

type Defer = ReturnType<typeof deferrer>;

const FORGED = '198.51.100.77';
const LOCAL_TRUST = '127.0.0.1,::1';

async function startGateway(defer: Defer, env: Record<string, string>): Promise<string> {
  const port = await freePort();
  const stderr: string[] = [];
  const svc = await startService(webGatewayService, { WEB_PORT: String(port), LOG_LEVEL: 'silent', ...env }, (l) => stderr.push(l));
  defer(async () => {
    svc.shutdown('test');
    await svc.done;
  });
  return `http://127.0.0.1:${port}`;
}

/** A JSON POST from a chosen local address (the caller's "IP"). */
function post(url: string, body: unknown, opts: { from?: string; headers?: Record<string, string> } = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const text = JSON.stringify(body);
    const req = http.request(url, { method: 'POST', localAddress: opts.from ?? '127.0.0.1', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...opts.headers } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(text);
  });
}

/** The rate-limit counters matching `pattern`, summed by the client IP in their key. */
async function countsByIp(defer: Defer, pattern: string, ipOf: (key: string) => string): Promise<Record<string, number>> {
  const redis = createRedis({ url: infra.redisUrl });
  defer(() => redis.close());
  await redis.health();
  const out: Record<string, number> = {};
  for (const key of await redis.client.keys(pattern)) out[ipOf(key)] = (out[ipOf(key)] ?? 0) + Number(await redis.client.get(key));
  return out;
}

test('login limits: a forged X-Forwarded-For counts under the real peer; what the gateway forwards, under the client it saw', async (t) => {
  const defer = deferrer(t);
  const secret = randomBytes(24).toString('hex');
  const users = await startUserSvc(defer, { USER_TRUSTED_PROXIES: LOCAL_TRUST, USER_PROXY_SECRET: secret, USER_LOGIN_MAX_PER_IP: '1000' });
  // 127.0.0.3 plays a load balancer in front of the gateway, which believes its X-Forwarded-For.
  const gateway = await startGateway(defer, { WEB_USER_SVC_URL: users.http, WEB_PROXY_SECRET: secret, WEB_TRUSTED_PROXIES: '127.0.0.3' });
  const login = { username: 'nobody_here', password: 'wrong password' };

  // Straight to user-svc from 127.0.0.1, a trusted address, but without the secret.
  assert.equal(await post(`${users.http}/v1/sessions`, login, { headers: { 'x-forwarded-for': FORGED } }), 401);
  assert.equal(await post(`${users.http}/v1/sessions`, login, { headers: { 'x-forwarded-for': FORGED, [PROXY_SECRET_HEADER]: 'a-guess-at-the-secret' } }), 401);
  // Through the gateway: the client it saw, whatever the client claims.
  assert.equal(await post(`${gateway}/api/users/v1/sessions`, login, { from: '127.0.0.2', headers: { 'x-forwarded-for': FORGED } }), 401);
  assert.equal(await post(`${gateway}/api/users/v1/sessions`, login, { from: '127.0.0.2', headers: { [PROXY_SECRET_HEADER]: 'a-guess-at-the-secret' } }), 401);
  // Through the "load balancer" and the gateway: the address the balancer forwarded.
  assert.equal(await post(`${gateway}/api/users/v1/sessions`, login, { from: '127.0.0.3', headers: { 'x-forwarded-for': '203.0.113.7' } }), 401);

  const counts = await countsByIp(defer, `${users.redisPrefix}login:ip:*`, (k) => k.slice(`${users.redisPrefix}login:ip:`.length));
  assert.deepEqual(counts, { '127.0.0.1': 2, '127.0.0.2': 2, '203.0.113.7': 1 });
});

test('join limits on the edge: the same rule for WebSockets through the gateway tunnel', async (t) => {
  const defer = deferrer(t);
  const secret = randomBytes(24).toString('hex');
  const s = await startStack(defer);
  const edge = await s.startEdge({ REALTIME_TRUSTED_PROXIES: LOCAL_TRUST, REALTIME_PROXY_SECRET: secret });
  const gateway = await startGateway(defer, { WEB_REALTIME_URL: edge.http, WEB_PROXY_SECRET: secret });
  const alice = await newUser(s.users.http);
  const room = await s.newRoom(alice);

  const join = (url: string, from: string, headers: Record<string, string> = {}) =>
    new Promise<void>((resolve, reject) => {
      const ws = new WebSocket(url, { localAddress: from, headers: { authorization: `Bearer ${alice.token}`, ...headers } });
      ws.once('open', () => {
        ws.close();
        resolve();
      });
      ws.once('error', reject);
    });
  await join(`${edge.url}/v1/rooms/${room}/ws`, '127.0.0.1', { 'x-forwarded-for': FORGED });
  await join(`${edge.url}/v1/rooms/${room}/ws`, '127.0.0.1', { 'x-forwarded-for': FORGED, [PROXY_SECRET_HEADER]: 'a-guess-at-the-secret' });
  await join(`${gateway.replace('http', 'ws')}/ws/v1/rooms/${room}/ws`, '127.0.0.2', { 'x-forwarded-for': FORGED });

  const head = `${s.redisPrefix}rl:join:ip:`;
  const counts = await countsByIp(defer, `${head}*`, (k) => k.slice(head.length, k.lastIndexOf(':')));
  assert.deepEqual(counts, { '127.0.0.1': 2, '127.0.0.2': 1 });
});
