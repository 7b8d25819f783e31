/**
 * The write path seen from a real Prometheus: ingestion and both command workers in this
 * process on the real servers, scraped every second by a Prometheus of the test's own with the
 * repo's alert rules. Messages sent through the pipeline move the counters and the hop-age
 * histograms; the dashboard's queries answer; a stopped command worker fires ParleyServiceDown.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { connectNats } from '@parley/clients';
import { roomSubject } from '@parley/nats';
import { infra, deferrer, eventually, freePort } from '@parley/test-support';
import { pipelineNames, pipelineEnv, pipelineStores, runService, makeEnvelopes, publishAll } from '@parley/test-support/pipeline';
import { startPrometheus, type PromSample } from '@parley/test-support/prometheus';
import { ingestionService } from '../app.js';
import { cqlCommandService } from '@parley/chat-command-cql-svc/app';
import { elasticCommandService } from '@parley/chat-command-elastic-svc/app';

const DASHBOARD = new URL('../../../infra/grafana/parley.json', import.meta.url);
const total = (r: PromSample[]) => r.reduce((a, s) => a + s.value, 0);

test('counters and hop ages move in Prometheus as messages flow; a stopped command worker fires ParleyServiceDown', async (t) => {
  const defer = deferrer(t);
  const names = pipelineNames();
  const nats = await connectNats({ url: infra.natsUrl, name: 'observability-test' });
  defer(() => nats.close());
  defer(() => nats.client.jsm.streams.delete(names.stream).catch(() => undefined));
  await pipelineStores(defer, names);

  const ports = { ingestion: await freePort(), cql: await freePort(), elastic: await freePort() };
  const env = pipelineEnv(names);
  const cql = await runService(cqlCommandService, { ...env, KAFKA_GROUP_ID: names.cqlGroup, OPS_PORT: String(ports.cql) });
  defer(() => cql.stop());
  const search = await runService(elasticCommandService, { ...env, KAFKA_GROUP_ID: names.esGroup, OPS_PORT: String(ports.elastic) });
  defer(() => search.stop());
  const ingestion = await runService(ingestionService, { ...env, OPS_PORT: String(ports.ingestion) });
  defer(() => ingestion.stop());
  const prom = await startPrometheus({
    'chat-ingestion-svc': `127.0.0.1:${ports.ingestion}`,
    'chat-command-cql-svc': `127.0.0.1:${ports.cql}`,
    'chat-command-elastic-svc': `127.0.0.1:${ports.elastic}`,
  });
  defer(prom.dispose);
  await prom.until('sum(up)', (r) => total(r) === 3, 30_000);

  const envs = makeEnvelopes(200, ['r1', 'r2', 'r3']);
  await publishAll(nats.client.js, names.prefix, envs);
  await nats.client.js.publish(roomSubject('r1', names.prefix), '{"v":1,"id":');

  // Every message at every hop (the histograms' _count; a replay after a rebalance may count one
  // again: delivery is at least once), and the poison once.
  for (const hop of ['in_kafka', 'readable', 'searchable']) {
    await prom.until(`sum(parley_message_age_seconds_count{hop="${hop}"})`, (r) => total(r) >= envs.length);
  }
  await prom.until('sum by (reason) (parley_dead_letters_total{service="chat-ingestion-svc"})', (r) => r.length === 1 && r[0]!.metric['reason'] === 'bad_json' && r[0]!.value === 1);
  await prom.until('sum(parley_ingestion_messages_total{outcome="produced"})', (r) => total(r) >= envs.length);
  await prom.until('sum(parley_store_records_total{outcome="stored"}) by (store)', (r) => r.length === 2 && r.every((s) => s.value >= envs.length));
  await prom.until('sum(parley_store_write_duration_seconds_count) by (store)', (r) => r.length === 2);
  // Lag per partition from committed offsets: 3 partitions per group, all caught up.
  const lag = await prom.until('parley_kafka_consumer_lag_messages', (r) => r.length === 6 && total(r) === 0);
  assert.deepEqual([...new Set(lag.map((s) => s.metric['group']))].sort(), [names.cqlGroup, names.esGroup].sort());
  await prom.until('parley_jetstream_consumer_pending_messages', (r) => r.length === 1 && r[0]!.value === 0);

  // "How far behind is search" is one query, and it answers with a real age.
  const behind = await prom.until('histogram_quantile(0.99, sum by (le) (rate(parley_message_age_seconds_bucket{hop="searchable"}[5m])))', (r) => r.length === 1 && Number.isFinite(r[0]!.value));
  assert.ok(behind[0]!.value > 0 && behind[0]!.value < 60, `p99 search age ${behind[0]!.value} s`);

  // The dashboard is built on queries Prometheus accepts and that find this pipeline's series.
  const dashboard = JSON.parse(await readFile(DASHBOARD, 'utf8')) as { panels: Array<{ title: string; targets?: Array<{ expr: string }> }> };
  for (const panel of dashboard.panels) {
    for (const target of panel.targets ?? []) await prom.query(target.expr.replaceAll('$__rate_interval', '5m'));
  }

  // A command worker stops: its scrape fails and the alert fires for it alone.
  await cql.stop();
  const firing = await eventually(async () => {
    const alerts = (await prom.alerts()).filter((a) => a.labels['alertname'] === 'ParleyServiceDown' && a.state === 'firing');
    return alerts.length > 0 ? alerts : undefined;
  }, 60_000, 500);
  assert.deepEqual(firing.map((a) => a.labels['job']), ['chat-command-cql-svc']);
});
