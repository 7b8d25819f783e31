import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { startService } from '@parley/service';
import { deferrer, freePort } from '@parley/test-support';
import { webGatewayService } from '../app.js';

test('web-gateway is ready only while every upstream answers its /healthz', async (t) => {
  const defer = deferrer(t);
  let healthy = true;
  const upstream = http.createServer((req, res) => {
    res.writeHead(req.url === '/healthz' && healthy ? 200 : 503, { 'content-type': 'application/json' }).end('{}');
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  defer(() => new Promise<void>((resolve) => upstream.close(() => resolve())));
  const base = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  const port = await freePort();
  const svc = await startService(
    webGatewayService,
    { WEB_PORT: String(port), LOG_LEVEL: 'silent', WEB_USER_SVC_URL: base, WEB_ROOM_SVC_URL: base, WEB_QUERY_SVC_URL: base, WEB_REALTIME_URL: base },
    () => undefined,
  );
  defer(async () => {
    svc.shutdown('test');
    await svc.done;
  });
  const ready = async () => {
    const r = await fetch(`http://127.0.0.1:${port}/readyz`);
    return { status: r.status, body: (await r.json()) as { status: string; checks: Record<string, string> } };
  };
  const up = await ready();
  assert.equal(up.status, 200, JSON.stringify(up.body));
  assert.deepEqual(Object.keys(up.body.checks).sort(), ['/api/query', '/api/realtime', '/api/rooms', '/api/users', '/ws']);
  healthy = false;
  const down = await ready();
  assert.equal(down.status, 503);
  assert.match(down.body.checks['/api/users'] ?? '', /failing: healthz answered 503/);
  assert.equal((await fetch(`http://127.0.0.1:${port}/healthz`)).status, 200, 'alive while its upstreams are not');
});
