import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deferrer, freePort, startPrivateNats, untilStatus } from '@parley/test-support';
import { createTopics, pipelineEnv, pipelineNames, runService } from '@parley/test-support/pipeline';
import { ingestionService } from '../app.js';

test('ingestion serves /healthz and a /readyz that follows NATS away and back', async (t) => {
  const defer = deferrer(t);
  const nats = await startPrivateNats();
  defer(() => nats.dispose());
  const names = pipelineNames();
  const topics = await createTopics(names);
  defer(topics.drop);
  const port = await freePort();
  const runner = await runService(ingestionService, { ...pipelineEnv(names), NATS_URL: nats.url, OPS_PORT: String(port) });
  defer(() => runner.stop());
  const ready = async () => {
    const r = await fetch(`http://127.0.0.1:${port}/readyz`);
    return { status: r.status, body: (await r.json()) as { status: string; checks: Record<string, string> } };
  };
  assert.deepEqual((await ready()).body, { status: 'ready', checks: { nats: 'ok', kafka: 'ok' } });
  assert.deepEqual(await (await fetch(`http://127.0.0.1:${port}/healthz`)).json(), { status: 'ok' });
  assert.equal((await fetch(`http://127.0.0.1:${port}/nope`)).status, 404);
  assert.equal((await fetch(`http://127.0.0.1:${port}/readyz`, { method: 'POST' })).status, 405);

  await nats.stop();
  const t0 = Date.now();
  const down = await untilStatus<{ checks: Record<string, string> }>(`http://127.0.0.1:${port}/readyz`, 503);
  t.diagnostic(`readyz 503 ${Date.now() - t0} ms after NATS was killed`);
  assert.match(down.checks['nats'] ?? '', /failing/);
  await nats.start();
  await untilStatus(`http://127.0.0.1:${port}/readyz`, 200, 20_000);

  const stopping = runner.stop();
  await stopping;
  await assert.rejects(fetch(`http://127.0.0.1:${port}/readyz`), 'the ops port closes last, with the process');
});
