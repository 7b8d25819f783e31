/**
 * Loss drill for the write path: publish a steady stream of N messages to the room subjects
 * through JetStream while SIGKILLing each worker mid-stream (and restarting it) and while
 * NATS, then Kafka, then Elasticsearch, then Cassandra is stopped for a while and restarted.
 * Then check that every one of the N ids is in Cassandra once and in Elasticsearch once, and
 * nothing else.
 *
 *   node --import tsx scripts/loss-drill.ts
 *   DRILL_MESSAGES=30000 DRILL_RATE=150 DRILL_OUTAGE_S=25 DRILL_KEEP=1 DRILL_STEPS=nats,kafka ...
 *
 * Every name (stream, subjects, topics, groups, keyspace, index prefix) is random, so the drill
 * never touches real data. NATS is the drill's own (e2e/private-servers.ts: the project's
 * nats.conf on a free port, its store under the run's folder). Kafka, Elasticsearch and Cassandra
 * are the shared servers: run it when nobody else needs them.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { parseConfig, natsFields, kafkaFields, cassandraFields, elasticFields } from '@parley/config';
import { connectNats, createCassandra, createElastic, createKafka } from '@parley/clients';
import { Snowflake, encodeEnvelope, newMessageEnvelope } from '@parley/envelope';
import { publishMsgId, roomSubject } from '@parley/nats';
import { migrateCassandra, elasticNames, removeElasticTemplates } from '@parley/migrate';
import { ensureTopics } from '@parley/pipeline';
import { privateNats } from '../e2e/private-servers.js';
import { cassandraIds, elasticIds, tally } from '../e2e/stores.js';

const root = fileURLToPath(new URL('../', import.meta.url));
const N = Number(process.env['DRILL_MESSAGES'] ?? 30_000);
const RATE = Number(process.env['DRILL_RATE'] ?? 150);
const OUTAGE_S = Number(process.env['DRILL_OUTAGE_S'] ?? 25);
const KEEP = process.env['DRILL_KEEP'] === '1';
const ONLY = process.env['DRILL_STEPS']?.split(',').filter(Boolean);
const chosen = (step: string) => !ONLY || ONLY.includes(step);
/** Longest a publish is retried (NATS away): the outage plus its restart, with room. */
const PUBLISH_RETRY_MS = (OUTAGE_S + 120) * 1000;
const ROOMS = Array.from({ length: 20 }, (_, i) => `room-${i}`);
const infra = parseConfig({ ...natsFields, ...kafkaFields, ...cassandraFields, ...elasticFields }, process.env);
const run = promisify(execFile);
const t0 = Date.now();
const log = (msg: string) => console.log(`[drill +${((Date.now() - t0) / 1000).toFixed(1)}s] ${msg}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const tag = `drill_${Date.now().toString(36)}_${Math.random().toString(16).slice(2, 8)}`;
const names = {
  stream: `S_${tag}`, prefix: `p_${tag}`, durable: `ingest_${tag}`, topic: `${tag}.messages`, dlq: `${tag}.messages.dlq`,
  keyspace: tag, esPrefix: tag, cqlGroup: `${tag}.cql`, esGroup: `${tag}.es`,
};
const logDir = `/tmp/parley-${tag}`;
mkdirSync(logDir, { recursive: true });
const drillNats = await privateNats(logDir);

const baseEnv: Record<string, string> = {
  ...(process.env as Record<string, string>),
  NATS_URL: drillNats.url,
  NATS_STREAM: names.stream, NATS_SUBJECT_PREFIX: names.prefix, INGESTION_DURABLE: names.durable,
  KAFKA_TOPIC: names.topic, KAFKA_DLQ_TOPIC: names.dlq, CASSANDRA_KEYSPACE: names.keyspace,
  ELASTICSEARCH_INDEX_PREFIX: names.esPrefix, LOG_LEVEL: 'info',
};
const workers = {
  'chat-ingestion-svc': {},
  'chat-command-cql-svc': { KAFKA_GROUP_ID: names.cqlGroup },
  'chat-command-elastic-svc': { KAFKA_GROUP_ID: names.esGroup },
} as const;
type Worker = keyof typeof workers;
const procs = new Map<Worker, ChildProcess>();

/** Starts a worker as its own process (cmd/<svc>/main.ts) and resolves once it logged "service ready". */
function startWorker(svc: Worker): Promise<void> {
  const out = createWriteStream(`${logDir}/${svc}.log`, { flags: 'a' });
  const child = spawn(process.execPath, ['--import', 'tsx', `cmd/${svc}/main.ts`], { cwd: root, env: { ...baseEnv, ...workers[svc] }, stdio: ['ignore', 'pipe', 'pipe'] });
  procs.set(svc, child);
  child.stderr!.pipe(out);
  return new Promise((resolve, reject) => {
    let buf = '';
    child.stdout!.on('data', (d: Buffer) => {
      out.write(d);
      buf += d.toString();
      if (buf.includes('service ready')) {
        buf = '';
        resolve();
      }
    });
    child.once('exit', (code) => reject(new Error(`${svc} exited with ${code} before ready (see ${logDir}/${svc}.log)`)));
  });
}

async function killAndRestart(svc: Worker): Promise<void> {
  const child = procs.get(svc)!;
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));
  log(`SIGKILLed ${svc}`);
  await sleep(2000);
  await startWorker(svc);
  log(`restarted ${svc}`);
}

async function outage(server: 'kafka' | 'elasticsearch' | 'cassandra'): Promise<void> {
  await run(`${root}scripts/infra.sh`, ['down', server]);
  log(`${server} stopped`);
  await sleep(OUTAGE_S * 1000);
  await run(`${root}scripts/infra.sh`, ['up', server], { timeout: 300_000 });
  log(`${server} back up`);
}

async function main(): Promise<void> {
  log(`names ${tag}; ${N} messages at ${RATE}/s over ${ROOMS.length} rooms; logs in ${logDir}`);
  const kafka = createKafka({ brokers: infra.kafkaBrokers, clientId: 'loss-drill' }).client;
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, [names.topic, names.dlq], 6);
  await admin.disconnect();
  const cql = createCassandra({ contactPoints: infra.cassandraContactPoints, localDataCenter: infra.cassandraLocalDc });
  await migrateCassandra({ client: cql.client, keyspace: names.keyspace, dir: `${root}cql`, direction: 'up' });
  const es = createElastic({ url: infra.elasticsearchUrl });
  const nats = await connectNats({ url: drillNats.url, name: 'loss-drill' });

  for (const svc of Object.keys(workers) as Worker[]) await startWorker(svc);
  log('workers ready');

  const ids: string[] = [];
  const publishing = publish(nats.client.js, ids);
  const chaos = (async () => {
    await sleep(5000);
    for (const svc of Object.keys(workers) as Worker[]) {
      if (!chosen(svc)) continue;
      await killAndRestart(svc);
      await sleep(4000);
    }
    if (chosen('nats')) {
      log(`stopping the drill's nats; back in ${OUTAGE_S} s`);
      await drillNats.restart(OUTAGE_S * 1000);
      log('nats back up');
      await sleep(5000);
    }
    for (const server of ['kafka', 'elasticsearch', 'cassandra'] as const) {
      if (!chosen(server)) continue;
      await outage(server);
      await sleep(5000);
    }
  })();
  await Promise.all([publishing, chaos]);
  log(`published ${ids.length}; chaos over; waiting for the stores to catch up`);

  const expected = new Set(ids);
  const alias = elasticNames(names.esPrefix).alias;
  const caughtUpAt = await waitFor(
    async () => (await cassandraIds(cql.client, names.keyspace)).length >= N && (await elasticIds(es.client, alias)).length >= N,
    async () => `cassandra ${(await cassandraIds(cql.client, names.keyspace).catch(() => [])).length}, elasticsearch ${(await elasticIds(es.client, alias).catch(() => [])).length}`,
    15 * 60_000,
  );
  await sleep(5000); // let any late duplicate land before judging
  const verdict = [
    { store: 'cassandra', ...tally(await cassandraIds(cql.client, names.keyspace), expected) },
    { store: 'elasticsearch', ...tally(await elasticIds(es.client, alias), expected) },
  ];
  const dlqCount = await topicSize(kafka, names.dlq);
  const esDocCount = (await es.client.count({ index: alias })).count;
  console.log('\n=== loss drill summary ===');
  console.log(`messages published (PubAck'd): ${ids.length}`);
  console.log(`steps: ${ONLY?.join(', ') ?? 'every worker SIGKILLed; nats, kafka, elasticsearch, cassandra stopped'}; outages ${OUTAGE_S}s each`);
  console.log(`caught up ${caughtUpAt === undefined ? 'NEVER' : `${((caughtUpAt - t0) / 1000).toFixed(0)}s after start`}`);
  for (const v of verdict) console.log(`${v.store}: rows ${v.rows}, distinct ${v.distinct}, missing ${v.missing}, duplicated ${v.duplicated}, unexpected ${v.unexpected}`);
  console.log(`elasticsearch _count: ${esDocCount}`);
  console.log(`dead letters: ${dlqCount}`);
  const ok = verdict.every((v) => v.missing === 0 && v.duplicated === 0 && v.unexpected === 0 && v.rows === N) && esDocCount === N && dlqCount === 0;
  console.log(ok ? 'RESULT: PASS, nothing lost, nothing doubled' : 'RESULT: FAIL');

  for (const c of procs.values()) c.kill('SIGTERM');
  await Promise.all([...procs.values()].map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : c.once('exit', r)))));
  if (!KEEP) {
    await nats.client.jsm.streams.delete(names.stream).catch(() => undefined);
    await cql.client.execute(`DROP KEYSPACE IF EXISTS ${names.keyspace}`).catch(() => undefined);
    await removeElasticTemplates(es.client, names.esPrefix).catch(() => undefined);
    const a = kafka.admin();
    await a.connect();
    await a.deleteTopics({ topics: [names.topic, names.dlq] }).catch(() => undefined);
    await a.deleteGroups([names.cqlGroup, names.esGroup]).catch(() => undefined);
    await a.disconnect();
  }
  await Promise.all([nats.close(), cql.close(), es.close()]);
  await drillNats.stop();
  process.exit(ok ? 0 : 1);
}

/** A steady stream: one message every 1/RATE s, each published and PubAck'd like the edge does. */
async function publish(js: import('nats').JetStreamClient, ids: string[]): Promise<void> {
  const gen = new Snowflake({ instance: 1023 });
  const start = Date.now();
  const inflight = new Set<Promise<void>>();
  for (let i = 0; i < N; i++) {
    const due = start + (i * 1000) / RATE;
    if (due > Date.now()) await sleep(due - Date.now());
    const env = newMessageEnvelope(gen.next(), { room_id: ROOMS[i % ROOMS.length]!, sender_id: `u${i % 50}`, sender_name: `User ${i % 50}`, body: `drill message ${i}`, client_msg_id: `d${i}` });
    const p = publishWithRetry(js, env).then(() => void ids.push(env.id));
    inflight.add(p);
    void p.finally(() => inflight.delete(p));
    if (inflight.size >= 500) await Promise.race(inflight);
    if (i > 0 && i % 5000 === 0) log(`published ${i}`);
  }
  await Promise.all(inflight);
}

/** Retried with the same msgID (the stream's duplicate window keeps a retry from counting twice). */
async function publishWithRetry(js: import('nats').JetStreamClient, env: ReturnType<typeof newMessageEnvelope>): Promise<void> {
  const deadline = Date.now() + PUBLISH_RETRY_MS;
  for (;;) {
    try {
      await js.publish(roomSubject(env.room_id, names.prefix), encodeEnvelope(env), { msgID: publishMsgId(env.room_id, env.sender_id, env.client_msg_id) });
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await sleep(200);
    }
  }
}

async function waitFor(cond: () => Promise<boolean>, progress: () => Promise<string>, timeoutMs: number): Promise<number | undefined> {
  const deadline = Date.now() + timeoutMs;
  let last = 0;
  while (Date.now() < deadline) {
    try {
      if (await cond()) return Date.now();
    } catch {
      // a store still warming up
    }
    if (Date.now() - last > 15_000) {
      last = Date.now();
      log(`catching up: ${await progress()}`);
    }
    await sleep(1000);
  }
  return undefined;
}

async function topicSize(kafka: import('kafkajs').Kafka, topic: string): Promise<number> {
  const a = kafka.admin();
  await a.connect();
  try {
    const offs = await a.fetchTopicOffsets(topic);
    return offs.reduce((n, p) => n + Number(p.high) - Number(p.low), 0);
  } finally {
    await a.disconnect();
  }
}

main().catch((err: unknown) => {
  console.error(`loss drill failed: ${(err as Error).stack ?? String(err)}`);
  for (const c of procs.values()) c.kill('SIGKILL');
  void drillNats.stop().finally(() => process.exit(2));
});
