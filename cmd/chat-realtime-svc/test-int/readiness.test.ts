import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { deferrer, startPrivateNats, untilStatus } from '@parley/test-support';
import { websocketProtocolSchema } from '@parley/contracts';
import { startStack } from '@parley/test-support/realtime-svc';

type Ready = { status: string; checks: Record<string, string> };

test('the edge is not ready while NATS is away, and is again once it is back', async (t) => {
  const defer = deferrer(t);
  const nats = await startPrivateNats();
  defer(() => nats.dispose());
  const s = await startStack(defer);
  const edge = await s.startEdge({ NATS_URL: nats.url });
  const ready = async () => {
    const r = await fetch(`${edge.http}/readyz`);
    return { status: r.status, body: (await r.json()) as Ready };
  };
  const first = await ready();
  assert.equal(first.status, 200, JSON.stringify(first.body));
  assert.equal(first.body.checks['nats'], 'ok');
  assert.equal(first.body.checks['instance-lease'], 'ok');

  await nats.stop();
  const t0 = Date.now();
  const down = await untilStatus<Ready>(`${edge.http}/readyz`, 503);
  t.diagnostic(`readyz 503 ${Date.now() - t0} ms after NATS was killed`);
  assert.match(down.checks['nats'] ?? '', /failing/);
  assert.equal((await fetch(`${edge.http}/healthz`)).status, 200, 'alive all along');

  await nats.start();
  const t1 = Date.now();
  await untilStatus(`${edge.http}/readyz`, 200, 20_000);
  t.diagnostic(`readyz 200 again ${Date.now() - t1} ms after NATS came back`);
});

test('the edge serves the WebSocket protocol as JSON Schema, generated from the contracts', async (t) => {
  const defer = deferrer(t);
  const s = await startStack(defer);
  const edge = await s.startEdge();
  const r = await fetch(`${edge.http}/v1/protocol.schema.json`);
  assert.equal(r.status, 200);
  const doc = (await r.json()) as { $defs: Record<string, unknown>; 'x-close-codes': Record<string, { name: string }> };
  assert.deepEqual(doc, JSON.parse(JSON.stringify(websocketProtocolSchema())));
  for (const frame of ['SendFrame', 'PingFrame', 'HistoryFrame', 'MessageFrame', 'AckFrame', 'ErrorFrame', 'RoomDeletedFrame', 'PongFrame', 'Message']) assert.ok(doc.$defs[frame], frame);
  assert.equal(doc['x-close-codes']['4401']?.name, 'SESSION_ENDED');
});

test('the edge refuses to start on the JavaScript fallback of uWebSockets.js', async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', 'cmd/chat-realtime-svc/main.ts'], { env: { ...process.env, UWS_USE_FALLBACK: '1', LOG_LEVEL: 'error', REALTIME_PORT: '0' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += String(d)));
  child.stderr.on('data', (d: Buffer) => (out += String(d)));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  assert.notEqual(code, 0);
  assert.match(out, /JavaScript fallback, not the native binding/);
});
