/**
 * Write-path benchmark (not a test): how fast messages flow from JetStream into Cassandra and
 * Elasticsearch on this machine, how long a message takes from publish to readable, and what
 * the bare Kafka producer reaches with the same record size, measured in the same run; beside
 * them, what each store takes on its own: cassandra-driver writing the rows the CQL worker
 * writes (its statements, batches and side rows, as many batches in flight as the worker has)
 * and the ES bulk API fed the documents the ES worker sends, in its batch size; then the
 * same two figures with a chat's mix of events (70 % sends, 20 % reactions, 10 % edits and
 * deletes) beside the sends-only ones. Last, the cost of watching (bench/load/observed.ts): the
 * sends-only burst and steady run again per variant, each on fresh workers in its own rooms:
 * plain, then every worker's /metrics scraped each second and tracing sampled at 1 % and
 * 100 % into a real Zipkin (messages carry the traceparent the edge would give them).
 *
 *   node --import tsx bench/pipeline.ts
 *   BENCH_MESSAGES=50000 BENCH_LATENCY_RATE=200 BENCH_LATENCY_SECONDS=20 BENCH_TRACE_VARIANTS=0,0.01,1 ...
 *   BENCH_CPU_PROF=/tmp/prof ...   (each worker writes a V8 CPU profile under it)
 *
 * Last line: the goal 7 as JSON (pipeline / slower store's own rate >= 0.8, search
 * freshness p99 <= 1 s at the steady rate).
 *
 * The three workers run as separate processes from cmd/<svc>/main.ts, as in production.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import type { Client as EsClient } from '@elastic/elasticsearch';
import type cassandra from 'cassandra-driver';
import { headers as natsHeaders, type JetStreamClient } from 'nats';
import { parseConfig, natsFields, kafkaFields, cassandraFields, elasticFields } from '@parley/config';
import { connectNats, createCassandra, createElastic, createKafka } from '@parley/clients';
import { Snowflake, bucketOf, firstIdAt, encodeEnvelope, newEventEnvelope, newMessageEnvelope, type Envelope } from '@parley/envelope';
import { long, MessageTables } from '@parley/message-store';
import { ensureMessageStream, publishMsgId, roomSubject } from '@parley/nats';
import { migrateCassandra, elasticNames, removeElasticTemplates } from '@parley/migrate';
import { ensureTopics } from '@parley/pipeline';
import { freePort } from '@parley/test-support';
import { writeCql, writeEs } from '@parley/test-support/store-fixtures';
import { spec as cqlSpec } from '@parley/chat-command-cql-svc/app';
import { spec as esSpec } from '@parley/chat-command-elastic-svc/app';
import type { TestZipkin } from '@parley/test-support/zipkin';
import { benchZipkin, edgeTraceparent, scrapeEvery, traceVariants, tracesOf, variantEnv, type Variant } from './load/observed.js';

const root = fileURLToPath(new URL('../', import.meta.url));
const M = Number(process.env['BENCH_MESSAGES'] ?? 100_000);
const LAT_RATE = Number(process.env['BENCH_LATENCY_RATE'] ?? 200);
const LAT_SECONDS = Number(process.env['BENCH_LATENCY_SECONDS'] ?? 20);
const ROOMS = Array.from({ length: 10 }, (_, i) => `room-${i}`);
const infra = parseConfig({ ...natsFields, ...kafkaFields, ...cassandraFields, ...elasticFields }, process.env);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const tag = `bench_${Date.now().toString(36)}_${Math.random().toString(16).slice(2, 8)}`;
const names = { stream: `S_${tag}`, prefix: `p_${tag}`, topic: `${tag}.messages`, dlq: `${tag}.messages.dlq`, keyspace: tag, esPrefix: tag, perf: `${tag}.perf` };
const alias = elasticNames(names.esPrefix).alias;
const logDir = `/tmp/parley-${tag}`;
mkdirSync(logDir, { recursive: true });
const procs: ChildProcess[] = [];
let kafkaAdmin: import('kafkajs').Admin | undefined;
const gen = new Snowflake({ instance: 1022 });

function startWorker(svc: string, extra: Record<string, string>): Promise<ChildProcess> {
  const env = {
    ...(process.env as Record<string, string>),
    NATS_STREAM: names.stream, NATS_SUBJECT_PREFIX: names.prefix, INGESTION_DURABLE: `ingest_${tag}`, KAFKA_TOPIC: names.topic,
    KAFKA_DLQ_TOPIC: names.dlq, CASSANDRA_KEYSPACE: names.keyspace, ELASTICSEARCH_INDEX_PREFIX: names.esPrefix, LOG_LEVEL: 'info', ...extra,
  };
  // BENCH_CPU_PROF=<dir>: each worker writes a V8 CPU profile there when it exits.
  const prof = process.env['BENCH_CPU_PROF'] ? ['--cpu-prof', `--cpu-prof-dir=${process.env['BENCH_CPU_PROF']}/${svc}.${procs.length}`] : [];
  const child = spawn(process.execPath, [...prof, '--import', 'tsx', `cmd/${svc}/main.ts`], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  procs.push(child);
  const out = createWriteStream(`${logDir}/${svc}.log`);
  child.stdout!.pipe(out);
  child.stderr!.pipe(out);
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      if (d.toString().includes('service ready')) resolve(child);
    });
    child.once('exit', (c) => reject(new Error(`${svc} exited ${c}; see ${logDir}`)));
  });
}

function message(i: number, rooms: readonly string[] = ROOMS): Envelope {
  return newMessageEnvelope(gen.next(), {
    room_id: rooms[i % rooms.length]!, sender_id: `u${i % 100}`, sender_name: `User ${i % 100}`,
    body: `benchmark message number ${i}: the quick brown fox jumps over the lazy dog`, client_msg_id: `b${i}`,
  });
}

const EMOJI = ['👍', '❤️', '😂', '🎉', '🔥'];

/**
 * Event `i` of a chat's mix: 70 % messages, 20 % reactions, 8 % edits, 2 % deletes, each change
 * naming a message sent earlier in the mix (in its room, by its author for an edit or a delete).
 */
function mixed(i: number, sent: Envelope[]): Envelope {
  const r = i % 50;
  const target = sent.length > 20 ? sent[sent.length - 1 - ((i * 7) % 20)]! : undefined;
  if (!target || r < 35) {
    const m = message(i);
    sent.push(m);
    return m;
  }
  const by = { room_id: target.room_id, sender_name: 'Bench', client_msg_id: `x${i}` };
  if (r < 45) return newEventEnvelope(gen.next(), { ...by, sender_id: `u${(i * 13) % 100}`, kind: 'reaction', target_id: target.id, emoji: EMOJI[i % EMOJI.length]!, on: i % 3 !== 0 });
  if (r < 49) return newEventEnvelope(gen.next(), { ...by, sender_id: target.sender_id, kind: 'edit', target_id: target.id, body: `edited ${i}: the quick brown fox jumps over the lazy dog` });
  return newEventEnvelope(gen.next(), { ...by, sender_id: target.sender_id, kind: 'delete', target_id: target.id });
}

/** Into the stream as the edge publishes; with `traceRatio`, with the traceparent the edge would add. */
async function publish(js: JetStreamClient, e: Envelope, traceRatio = 0): Promise<void> {
  const opts = { msgID: publishMsgId(e.room_id, e.sender_id, e.client_msg_id) };
  const traceparent = traceRatio > 0 ? edgeTraceparent(traceRatio) : undefined;
  if (traceparent === undefined) return void (await js.publish(roomSubject(e.room_id, names.prefix), encodeEnvelope(e), opts));
  const h = natsHeaders();
  h.set('traceparent', traceparent);
  await js.publish(roomSubject(e.room_id, names.prefix), encodeEnvelope(e), { ...opts, headers: h });
}

async function cqlCount(c: cassandra.Client, buckets: number[], rooms: readonly string[] = ROOMS): Promise<number> {
  let n = 0;
  for (const room of rooms) {
    const rs = await c.execute(`SELECT COUNT(*) AS n FROM ${names.keyspace}.messages WHERE room_id = ? AND bucket IN ?`, [room, buckets], { prepare: true });
    n += Number(rs.first().get('n'));
  }
  return n;
}

async function esCount(es: EsClient, rooms: readonly string[] = ROOMS): Promise<number> {
  await es.indices.refresh({ index: alias });
  return (await es.count({ index: alias, query: { terms: { room_id: [...rooms] } } })).count;
}

/** Which rooms, message numbers, trace ratio and worker environment a run uses (the first phases: the defaults). */
interface RunOpts {
  rooms: readonly string[];
  base: number;
  traceRatio: number;
  /** Starts ingestion for this run. */
  ingestion: () => Promise<unknown>;
}
const plainRun: RunOpts = { rooms: ROOMS, base: 0, traceRatio: 0, ingestion: () => startWorker('chat-ingestion-svc', {}) };

/**
 * Phase 1: M messages wait in the stream (published while ingestion is not running), then
 * ingestion starts: msgs/s from its start until each store holds them all. This measures what
 * the pipeline sustains, not how fast one publisher can feed it.
 */
async function throughput(js: JetStreamClient, c: cassandra.Client, es: EsClient, run: RunOpts = plainRun) {
  const inKafka = async () => (await kafkaAdmin!.fetchTopicOffsets(names.topic)).reduce((n, p) => n + Number(p.high), 0);
  const kafkaBefore = await inKafka();
  const envs = Array.from({ length: M }, (_, i) => message(run.base + i, run.rooms));
  const buckets = [...new Set(envs.map((e) => bucketOf(BigInt(e.id))))];
  const p0 = Date.now();
  const window = 1000;
  for (let i = 0; i < envs.length; i += window) await Promise.all(envs.slice(i, i + window).map((e) => publish(js, e, run.traceRatio)));
  const publishRate = Math.round(M / ((Date.now() - p0) / 1000));
  await run.ingestion();
  const t0 = Date.now();
  let cqlDone = 0;
  let esDone = 0;
  let kafkaDone = 0;
  while (!cqlDone || !esDone) {
    if (!kafkaDone && (await inKafka()) - kafkaBefore >= M) kafkaDone = Date.now();
    if (!cqlDone && (await cqlCount(c, buckets, run.rooms)) >= M) cqlDone = Date.now();
    if (!esDone && (await esCount(es, run.rooms)) >= M) esDone = Date.now();
    await sleep(200);
  }
  const rate = (end: number) => Math.round(M / ((end - t0) / 1000));
  return { publishRate, kafkaRate: rate(kafkaDone || Date.now()), cqlRate: rate(cqlDone), esRate: rate(esDone), recordBytes: Math.round(envs.reduce((n, e) => n + encodeEnvelope(e).byteLength, 0) / M) };
}

/**
 * Phase 1b: the same burst as a chat's mix of events, ingestion stopped while it fills the
 * stream and started again: events/s until each store has applied the last one of every room
 * (a room's events are applied in order, so its last one marks all of them).
 */
async function mixedThroughput(js: JetStreamClient, c: cassandra.Client, es: EsClient, stopIngestion: () => Promise<void>) {
  await stopIngestion();
  const sent: Envelope[] = [];
  const envs = Array.from({ length: M }, (_, i) => mixed(2 * M + i, sent));
  const lastOfRoom = new Map<string, Envelope>();
  for (const room of ROOMS) {
    const marker = message(4 * M + ROOMS.indexOf(room));
    envs.push({ ...marker, room_id: room });
    lastOfRoom.set(room, envs.at(-1)!);
  }
  const window = 1000;
  for (let i = 0; i < envs.length; i += window) await Promise.all(envs.slice(i, i + window).map((e) => publish(js, e)));
  await startWorker('chat-ingestion-svc', {});
  const t0 = Date.now();
  const tables = new MessageTables(names.keyspace);
  const markers = [...lastOfRoom.values()];
  const cqlHas = async () => {
    for (const m of markers) {
      const rs = await c.execute(tables.selectOne, [m.room_id, tables.bucketOf(BigInt(m.id)), long(m.id)], { prepare: true });
      if (!rs.first()) return false;
    }
    return true;
  };
  const esHas = async () => (await es.mget({ index: alias, ids: markers.map((m) => m.id) })).docs.every((d) => 'found' in d && d.found);
  let cqlDone = 0;
  let esDone = 0;
  while (!cqlDone || !esDone) {
    if (!cqlDone && (await cqlHas())) cqlDone = Date.now();
    if (!esDone && (await esHas())) esDone = Date.now();
    await sleep(100);
  }
  const rate = (end: number) => Math.round(envs.length / ((end - t0) / 1000));
  const kinds = envs.reduce<Record<string, number>>((n, e) => ({ ...n, [e.kind]: (n[e.kind] ?? 0) + 1 }), {});
  return { events: envs.length, kinds, cqlRate: rate(cqlDone), esRate: rate(esDone) };
}

/** Phase 2: a steady rate; per message, publish→first seen by a reader polling each store. */
async function latency(js: JetStreamClient, c: cassandra.Client, es: EsClient, mix = false, run: RunOpts = plainRun) {
  const sentAt = new Map<string, number>();
  const cqlSeen = new Map<string, number>();
  const esSeen = new Map<string, number>();
  let publishing = true;
  const pollCql = (async () => {
    while (publishing || cqlSeen.size < sentAt.size) {
      for (const room of run.rooms) {
        const b = bucketOf(firstIdAt(Date.now()));
        const rs = await c.execute(`SELECT id FROM ${names.keyspace}.messages WHERE room_id = ? AND bucket = ? LIMIT 100`, [room, b], { prepare: true });
        const now = Date.now();
        for (const r of rs.rows) { const id = r.get('id').toString(); if (sentAt.has(id) && !cqlSeen.has(id)) cqlSeen.set(id, now); }
      }
      await sleep(10);
    }
  })();
  const pollEs = (async () => {
    while (publishing || esSeen.size < sentAt.size) {
      const res = await es.search({ index: alias, size: 1000, _source: false, sort: [{ seq: 'desc' }] });
      const now = Date.now();
      for (const h of res.hits.hits) if (sentAt.has(h._id!) && !esSeen.has(h._id!)) esSeen.set(h._id!, now);
      await sleep(20);
    }
  })();
  const total = LAT_RATE * LAT_SECONDS;
  const start = Date.now();
  const sent: Envelope[] = [];
  // With the mix, only messages are timed: the changes between them load the same pipeline.
  const base = mix ? 6 * M : run.base + M;
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / LAT_RATE;
    if (due > Date.now()) await sleep(due - Date.now());
    const e = mix ? mixed(base + i, sent) : message(base + i, run.rooms);
    if (e.kind === 'message') sentAt.set(e.id, Date.now());
    void publish(js, e, run.traceRatio);
  }
  publishing = false;
  await Promise.race([Promise.all([pollCql, pollEs]), sleep(60_000)]);
  const pct = (seen: Map<string, number>) => {
    const d = [...seen].map(([id, t]) => t - sentAt.get(id)!).sort((a, b) => a - b);
    const q = (p: number) => d[Math.min(d.length - 1, Math.floor((p / 100) * d.length))] ?? NaN;
    return { n: d.length, p50: q(50), p99: q(99), max: d[d.length - 1] ?? NaN };
  };
  return { rate: LAT_RATE, cql: pct(cqlSeen), es: pct(esSeen) };
}

/**
 * Kafka partitions a worker's consumer takes at once (partitionsConsumedConcurrently in
 * @parley/pipeline's SinkWorker): the stores alone get as many requests in flight as that gives.
 */
const PARTITIONS_AT_ONCE = 2;

/**
 * Phase 0: each store on its own, the same M messages (rooms of their own) written as the
 * workers write them. Cassandra: the CQL worker's statements, unlogged batches per partition cut
 * by its byte budget, then their side rows; in flight, a batch per room of each partition it
 * takes at once (PARTITIONS_AT_ONCE x rooms/partitions, at least one per partition).
 * Elasticsearch: `create` of the worker's documents, ELASTIC_BULK_MAX_DOCS per bulk,
 * PARTITIONS_AT_ONCE bulks in flight, then a refresh (what makes them searchable).
 */
async function storesAlone(c: cassandra.Client, es: EsClient, partitions: number) {
  const rooms = ROOMS.map((r) => `${r}-alone`);
  const envs = Array.from({ length: M }, (_, i) => message(20 * M + i, rooms)).filter((e): e is Extract<Envelope, { kind: 'message' }> => e.kind === 'message');
  const cqlConcurrency = PARTITIONS_AT_ONCE * Math.max(1, Math.ceil(rooms.length / partitions));
  let t0 = Date.now();
  await writeCql(c, names.keyspace, envs, cqlConcurrency);
  const cqlRate = Math.round(M / ((Date.now() - t0) / 1000));
  const esChunk = Number(esSpec.bulkMaxDocs.default);
  t0 = Date.now();
  await writeEs(es, alias, envs, { chunk: esChunk, concurrency: PARTITIONS_AT_ONCE });
  const esRate = Math.round(M / ((Date.now() - t0) / 1000));
  if ((await cqlCount(c, [...new Set(envs.map((e) => bucketOf(BigInt(e.id))))], rooms)) !== M || (await esCount(es, rooms)) !== M) throw new Error('stores alone: not every message landed');
  return { cqlRate, esRate, cqlConcurrency, esChunk, esConcurrency: PARTITIONS_AT_ONCE, cqlMaxBatch: Number(cqlSpec.maxBatch.default) };
}

/** Kafka's own ProducerPerformance, acks=all and idempotent like ingestion, same record size. */
async function bareKafka(recordBytes: number): Promise<string> {
  const { stdout } = await promisify(execFile)('java', [
    '-cp', `${root}.infra/kafka/lib/*`, 'org.apache.kafka.tools.ProducerPerformance',
    '--topic', names.perf, '--num-records', String(Math.max(200_000, M * 4)), '--record-size', String(recordBytes), '--throughput', '-1',
    '--producer-props', `bootstrap.servers=${infra.kafkaBrokers.join(',')}`, 'acks=all', 'enable.idempotence=true', 'linger.ms=5',
  ], { maxBuffer: 10 * 1024 * 1024, timeout: 300_000 });
  return stdout.trim().split('\n').pop()!;
}

/**
 * Phase 3: the sends-only burst and steady run once per variant, each on three fresh workers
 * (its environment, fixed ops ports scraped when the variant says so) and in rooms of its own.
 */
async function observedRun(js: JetStreamClient, c: cassandra.Client, es: EsClient, v: Variant, n: number, zipkin: TestZipkin | undefined) {
  const env = variantEnv(v, zipkin);
  const ports = await Promise.all([0, 1, 2].map(() => freePort()));
  const rooms = ROOMS.map((r) => `${r}-v${n}`);
  const mine: ChildProcess[] = [];
  mine.push(await startWorker('chat-command-cql-svc', { ...env, KAFKA_GROUP_ID: `${tag}.cql`, OPS_PORT: String(ports[0]) }));
  mine.push(await startWorker('chat-command-elastic-svc', { ...env, KAFKA_GROUP_ID: `${tag}.es`, OPS_PORT: String(ports[1]) }));
  const scraping = v.ratio > 0 ? scrapeEvery(ports.map((p) => `http://127.0.0.1:${p}/metrics`)) : undefined;
  const tracesBefore = await tracesOf(zipkin, 'chat-ingestion-svc');
  const run: RunOpts = { rooms, base: (10 + 3 * n) * M, traceRatio: v.ratio, ingestion: async () => mine.push(await startWorker('chat-ingestion-svc', { ...env, OPS_PORT: String(ports[2]) })) };
  const tp = await throughput(js, c, es, run);
  const lat = await latency(js, c, es, false, run);
  const scraped = scraping?.();
  await Promise.all(mine.map((p) => new Promise((r) => (p.once('exit', r), p.kill('SIGTERM')))));
  const traces = (await tracesOf(zipkin, 'chat-ingestion-svc')) - tracesBefore;
  return { v, tp, lat, scrapes: scraped?.scrapes ?? 0, traces };
}

async function main(): Promise<void> {
  const kafka = createKafka({ brokers: infra.kafkaBrokers, clientId: 'bench' }).client;
  const admin = kafka.admin();
  await admin.connect();
  kafkaAdmin = admin;
  const partitions = 6;
  await ensureTopics(admin, [names.topic, names.dlq, names.perf], partitions);
  const cql = createCassandra({ contactPoints: infra.cassandraContactPoints, localDataCenter: infra.cassandraLocalDc });
  await migrateCassandra({ client: cql.client, keyspace: names.keyspace, dir: `${root}cql`, direction: 'up' });
  const es = createElastic({ url: infra.elasticsearchUrl });
  const nats = await connectNats({ url: infra.natsUrl, name: 'bench' });
  await ensureMessageStream(nats.client.jsm, { name: names.stream, prefix: names.prefix });
  const disposals: Array<() => unknown> = [];
  let zipkin: TestZipkin | undefined;
  try {
    await startWorker('chat-command-cql-svc', { KAFKA_GROUP_ID: `${tag}.cql` });
    await startWorker('chat-command-elastic-svc', { KAFKA_GROUP_ID: `${tag}.es` });
    console.error(`bench ${tag}: each store alone, ${M} messages`);
    const alone = await storesAlone(cql.client, es.client, partitions);
    console.error(`bench: burst of ${M} messages`);
    const tp = await throughput(nats.client.js, cql.client, es.client);
    console.error(`bench: steady ${LAT_RATE}/s for ${LAT_SECONDS}s`);
    const lat = await latency(nats.client.js, cql.client, es.client);
    console.error(`bench: burst of ${M} events of a chat's mix`);
    const stopIngestion = async () => {
      const ingestion = procs[2]!;
      ingestion.kill('SIGTERM');
      await new Promise((r) => ingestion.once('exit', r));
    };
    const mixTp = await mixedThroughput(nats.client.js, cql.client, es.client, stopIngestion);
    console.error(`bench: steady ${LAT_RATE}/s of the mix for ${LAT_SECONDS}s`);
    const mixLat = await latency(nats.client.js, cql.client, es.client, true);
    await Promise.all(procs.filter((p) => p.exitCode === null).map((p) => new Promise((r) => (p.once('exit', r), p.kill('SIGTERM')))));
    const variants = traceVariants();
    zipkin = await benchZipkin(variants, (fn) => void disposals.push(fn));
    const observed = [];
    for (const [n, v] of variants.entries()) {
      console.error(`bench: ${v.label}: burst of ${M} messages, then ${LAT_RATE}/s for ${LAT_SECONDS}s`);
      observed.push(await observedRun(nats.client.js, cql.client, es.client, v, n, zipkin));
    }
    console.error('bench: bare Kafka producer');
    const perf = await bareKafka(tp.recordBytes);
    const perfRate = Number(/([\d.]+) records\/sec/.exec(perf)?.[1] ?? NaN);
    console.log(`\n=== write-path benchmark (${new Date().toISOString()}) ===`);
    console.log(`record size ${tp.recordBytes} B; burst of ${M} messages; 10 rooms; kafka topic ${partitions} partitions`);
    console.log(`Cassandra alone (cassandra-driver, the CQL worker's statements and batches, ${alone.cqlConcurrency} batches in flight): ${alone.cqlRate} msg/s`);
    console.log(`Elasticsearch alone (bulk create of the ES worker's documents, ${alone.esChunk} per request, ${alone.esConcurrency} in flight, then refresh): ${alone.esRate} msg/s`);
    console.log(`publish into the stream (one publisher, PubAck'd, window 1000): ${tp.publishRate} msg/s`);
    console.log(`sustained into Kafka (ingestion): ${tp.kafkaRate} msg/s (ingestion start → all ${M} in the topic, from a full stream)`);
    console.log(`sustained into Cassandra:     ${tp.cqlRate} msg/s (ingestion start → all ${M} readable, from a full stream)`);
    console.log(`sustained into Elasticsearch: ${tp.esRate} msg/s (ingestion start → all ${M} searchable, from a full stream)`);
    console.log(`latency at ${lat.rate} msg/s, publish → readable in Cassandra:     p50 ${lat.cql.p50} ms, p99 ${lat.cql.p99} ms, max ${lat.cql.max} ms (n=${lat.cql.n})`);
    console.log(`latency at ${lat.rate} msg/s, publish → searchable in Elasticsearch: p50 ${lat.es.p50} ms, p99 ${lat.es.p99} ms, max ${lat.es.max} ms (n=${lat.es.n})`);
    console.log(`bare Kafka ProducerPerformance (acks=all, idempotent, ${tp.recordBytes} B): ${perf}`);
    const slower = Math.min(alone.cqlRate, alone.esRate);
    const pipelineRate = Math.min(tp.cqlRate, tp.esRate);
    const ratio = pipelineRate / slower;
    console.log(`pipeline / store alone: cassandra ${(tp.cqlRate / alone.cqlRate).toFixed(2)}, elasticsearch ${(tp.esRate / alone.esRate).toFixed(2)}; pipeline (slower sink ${pipelineRate}) / slower store (${slower}): ${ratio.toFixed(2)}`);
    console.log(`pipeline / bare producer: cassandra ${(tp.cqlRate / perfRate).toFixed(3)}, elasticsearch ${(tp.esRate / perfRate).toFixed(3)}`);
    const mixDesc = Object.entries(mixTp.kinds).map(([k, n]) => `${k} ${n}`).join(', ');
    console.log(`chat's mix (${mixTp.events} events: ${mixDesc}), sustained into Cassandra: ${mixTp.cqlRate} events/s (sends only: ${tp.cqlRate}; ratio ${(mixTp.cqlRate / tp.cqlRate).toFixed(2)})`);
    console.log(`chat's mix, sustained into Elasticsearch: ${mixTp.esRate} events/s (sends only: ${tp.esRate}; ratio ${(mixTp.esRate / tp.esRate).toFixed(2)})`);
    console.log(`chat's mix at ${mixLat.rate} events/s, messages publish → readable in Cassandra: p50 ${mixLat.cql.p50} ms, p99 ${mixLat.cql.p99} ms (sends only p99 ${lat.cql.p99} ms)`);
    console.log(`chat's mix at ${mixLat.rate} events/s, messages publish → searchable in Elasticsearch: p50 ${mixLat.es.p50} ms, p99 ${mixLat.es.p99} ms (sends only p99 ${lat.es.p99} ms)`);
    console.log(`\nwatching the write path (fresh workers and rooms per row; burst of ${M} from a full stream, then ${LAT_RATE} msg/s for ${LAT_SECONDS} s):`);
    console.log('| run | into Cassandra msg/s | into Elasticsearch msg/s | publish → readable p50 / p99 (ms) | publish → searchable p50 / p99 (ms) | /metrics scrapes | traces in Zipkin |');
    console.log('|---|---|---|---|---|---|---|');
    for (const o of observed) {
      console.log(`| ${o.v.label} | ${o.tp.cqlRate} | ${o.tp.esRate} | ${o.lat.cql.p50} / ${o.lat.cql.p99} | ${o.lat.es.p50} / ${o.lat.es.p99} | ${o.scrapes} | ${o.traces} |`);
    }
    const fresh = lat.es.p99;
    const met = ratio >= 0.8 && fresh <= 1000;
    const measured = `into Cassandra ${tp.cqlRate} msg/s (alone ${alone.cqlRate}), into ES ${tp.esRate} msg/s (alone ${alone.esRate}): pipeline / slower store ${ratio.toFixed(2)}; publish → searchable p99 ${fresh} ms at ${lat.rate} msg/s`;
    const short = [ratio < 0.8 ? `the pipeline reaches ${ratio.toFixed(2)} of the slower store's own rate (goal 0.8)` : '', fresh > 1000 ? `search freshness p99 is ${fresh} ms (goal 1000)` : ''].filter(Boolean);
    const why = met ? `the pipeline keeps ${ratio.toFixed(2)} of the slower store's own rate and makes messages searchable within ${fresh} ms at p99` : `${short.join('; ')}`;
    console.log(JSON.stringify({ phase: 'goal', goal: 7, title: 'Write path', measured, met, why }));
  } finally {
    for (const d of disposals.splice(0)) await Promise.resolve(d()).catch(() => undefined);
    for (const p of procs) p.kill('SIGTERM');
    await nats.client.jsm.streams.delete(names.stream).catch(() => undefined);
    await cql.client.execute(`DROP KEYSPACE IF EXISTS ${names.keyspace}`).catch(() => undefined);
    await removeElasticTemplates(es.client, names.esPrefix).catch(() => undefined);
    await admin.deleteTopics({ topics: [names.topic, names.dlq, names.perf] }).catch(() => undefined);
    await admin.deleteGroups([`${tag}.cql`, `${tag}.es`]).catch(() => undefined);
    await admin.disconnect();
    await Promise.all([nats.close(), cql.close(), es.close()]);
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(`bench failed: ${(err as Error).stack ?? String(err)}`);
    for (const p of procs) p.kill('SIGKILL');
    process.exit(1);
  },
);
