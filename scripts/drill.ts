/**
 * System failure drill (`make drill`): the whole system (seven services, two edges, as separate
 * processes on random names, see e2e/system.ts) under a steady chat load from real WebSocket
 * clients, while each service in turn is SIGKILLed and restarted and each server is stopped and
 * restarted. After every step it waits until both stores hold every message acknowledged so far,
 * and reports how long that took; at the end it checks that Cassandra and Elasticsearch each hold
 * exactly the acknowledged messages, once.
 *
 *   node --import tsx scripts/drill.ts
 *   DRILL_RATE=40 DRILL_CLIENTS=16 DRILL_OUTAGE_S=15 DRILL_STEPS=kafka,chat-ingestion-svc ...
 *
 * NATS and Redis are only restarted when scripts/infra.sh started them: a server the machine
 * runs for others is not ours to stop. Kafka, Cassandra and Elasticsearch are stopped for
 * DRILL_OUTAGE_S each, which every other user of this machine's servers notices.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { writeFileSync } from 'node:fs';
import { elasticNames } from '@parley/clients';
import { call, newUser } from '@parley/test-support/user-svc';
import { startSystem, type System } from '../e2e/system.js';
import { LoadClient, newStats, type LoadStats } from '../e2e/chat-load.js';
import { cassandraIds, elasticIds, tally, type Tally } from '../e2e/stores.js';

const root = fileURLToPath(new URL('../', import.meta.url));
const env = process.env;
const RATE = Number(env['DRILL_RATE'] ?? 40);
const CLIENTS = Number(env['DRILL_CLIENTS'] ?? 16);
const ROOMS = Number(env['DRILL_ROOMS'] ?? 4);
const OUTAGE_S = Number(env['DRILL_OUTAGE_S'] ?? 15);
const CATCH_UP_TIMEOUT_MS = Number(env['DRILL_CATCH_UP_TIMEOUT_S'] ?? 300) * 1000;
const ONLY = env['DRILL_STEPS']?.split(',').filter(Boolean);
const run = promisify(execFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const t0 = Date.now();
const log = (msg: string) => console.log(`[drill +${((Date.now() - t0) / 1000).toFixed(1)}s] ${msg}`);

interface Step {
  name: string;
  /** Does the damage and undoes it; resolves once the part is back. A string: skipped, and why. */
  act: () => Promise<void | string>;
}

interface Row {
  step: string;
  /** Acknowledged when the part was back: what the stores must then catch up with. */
  acked: number;
  ackedDuring: number;
  cassandra: Tally | undefined;
  elastic: Tally | undefined;
  reconnects: number;
  selfExits: number;
  catchUpS: number | undefined;
  note: string;
}

async function main(): Promise<void> {
  log(`starting the system: 7 services, 2 edges; load ${RATE} msg/s from ${CLIENTS} clients in ${ROOMS} rooms`);
  const sys = await startSystem({
    edges: 2,
    supervise: true,
    // The drill measures recovery, not rate limiting: every client is on 127.0.0.1.
    env: { REALTIME_SENDS_PER_USER: '100000', REALTIME_SENDS_PER_IP: '1000000', REALTIME_JOINS_PER_USER: '100000', REALTIME_JOINS_PER_IP: '1000000' },
    onEvent: log,
  });
  log(`system up; logs in ${sys.logDir}`);
  let clients: LoadClient[] = [];
  try {
    const stats = newStats();
    clients = await connectClients(sys, stats);
    const ticker = setInterval(() => clients[Math.floor(Math.random() * clients.length)]!.send(), 1000 / RATE);
    await sleep(5000);
    const rows: Row[] = [];
    for (const step of await steps(sys)) {
      if (ONLY && !ONLY.includes(step.name)) continue;
      rows.push(await runStep(sys, stats, step));
      await sleep(3000);
    }
    clearInterval(ticker);
    const final = await finish(sys, stats, clients);
    rows.push(final.row);
    printReport(rows, stats, final.ok);
    writeFileSync(`${sys.logDir}/drill-report.json`, JSON.stringify({ rows, ok: final.ok }, null, 2));
    process.exitCode = final.ok ? 0 : 1;
  } finally {
    for (const c of clients) c.stop();
    await sys.stop();
  }
}

/** Users, rooms (public, joined over REST) and one socket per user, alternating edges. */
async function connectClients(sys: System, stats: LoadStats): Promise<LoadClient[]> {
  const users = [];
  for (let i = 0; i < CLIENTS; i++) users.push(await newUser(sys.urls.user));
  const rooms: string[] = [];
  for (let r = 0; r < ROOMS; r++) {
    const res = await call(sys.urls.room, 'POST', '/v1/rooms', { token: users[r % users.length]!.token, body: { name: `drill ${r}`, visibility: 'public' } });
    if (res.status !== 201) throw new Error(`create room: ${res.status} ${JSON.stringify(res.body)}`);
    rooms.push(res.body.room.id);
  }
  const clients = users.map((u, i) => {
    const room = rooms[i % ROOMS]!;
    return { u, room, client: new LoadClient(sys.urls.edges, u.token, room, `c${i}`, stats, i) };
  });
  for (const { u, room } of clients) {
    const res = await call(sys.urls.room, 'POST', `/v1/rooms/${room}/join`, { token: u.token });
    if (res.status !== 200) throw new Error(`join room: ${res.status}`);
  }
  for (const { client } of clients) client.connect();
  await sleep(2000);
  return clients.map((c) => c.client);
}

async function steps(sys: System): Promise<Step[]> {
  const out: Step[] = sys.procs.map((p) => ({
    name: p.key,
    act: async () => {
      await sys.kill(p.key);
      log(`SIGKILLed ${p.key}`);
      await sleep(2000);
      await sys.start(p.key);
      log(`${p.key} restarted and ready`);
    },
  }));
  const owned = await serversWeStarted();
  for (const server of ['nats', 'kafka', 'cassandra', 'elasticsearch', 'redis']) {
    out.push({
      name: server,
      act: async () => {
        if (!owned.has(server)) return `${server} is the machine's own server (scripts/infra.sh reused it): not ours to stop`;
        await run(`${root}scripts/infra.sh`, ['down', server], { timeout: 120_000 });
        log(`${server} stopped; back in ${OUTAGE_S} s`);
        await sleep(OUTAGE_S * 1000);
        await run(`${root}scripts/infra.sh`, ['up', server], { timeout: 600_000 });
        log(`${server} up again`);
      },
    });
  }
  return out;
}

/** The servers scripts/infra.sh marks `started-by-us` (the others it only reuses). */
async function serversWeStarted(): Promise<Set<string>> {
  const { stdout } = await run(`${root}scripts/infra.sh`, ['status']);
  return new Set(stdout.split('\n').filter((l) => /\bstarted-by-us\b/.test(l)).map((l) => l.split(/\s+/)[0]!));
}

async function runStep(sys: System, stats: LoadStats, step: Step): Promise<Row> {
  const before = { acked: stats.acked.size, reconnects: stats.reconnects, exits: exits(sys) };
  log(`step ${step.name}`);
  const skipped = await step.act();
  if (typeof skipped === 'string') {
    log(`skipped: ${skipped}`);
    return { step: step.name, acked: stats.acked.size, ackedDuring: 0, cassandra: undefined, elastic: undefined, reconnects: 0, selfExits: 0, catchUpS: undefined, note: `skipped: ${skipped}` };
  }
  const backAt = Date.now();
  const expected = new Set(stats.acked.values());
  const counts = await untilStored(sys, expected, CATCH_UP_TIMEOUT_MS);
  const row: Row = {
    step: step.name,
    acked: expected.size,
    ackedDuring: expected.size - before.acked,
    cassandra: counts?.cassandra,
    elastic: counts?.elastic,
    reconnects: stats.reconnects - before.reconnects,
    selfExits: exits(sys) - before.exits,
    catchUpS: counts ? (counts.at - backAt) / 1000 : undefined,
    note: counts ? '' : 'did not catch up in time',
  };
  log(`step ${step.name}: ${describe(row)}`);
  return row;
}

const exits = (sys: System) => sys.procs.reduce((n, p) => n + p.exits, 0);

/** Polls both stores until each holds every expected id; undefined on timeout. */
async function untilStored(sys: System, expected: ReadonlySet<string>, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  const alias = elasticNames(sys.names.esPrefix).alias;
  let lastLog = Date.now();
  while (Date.now() < deadline) {
    try {
      const [cql, es] = await Promise.all([cassandraIds(sys.cassandra, sys.names.keyspace), elasticIds(sys.elastic, alias)]);
      const at = Date.now();
      const cassandra = tally(cql, expected);
      const elastic = tally(es, expected);
      if (cassandra.missing === 0 && elastic.missing === 0) return { cassandra, elastic, at };
      if (Date.now() - lastLog > 10_000) {
        lastLog = Date.now();
        log(`  catching up: cassandra ${cassandra.found}/${expected.size}, elasticsearch ${elastic.found}/${expected.size}`);
      }
    } catch (err) {
      if (Date.now() - lastLog > 10_000) {
        lastLog = Date.now();
        log(`  stores not answering yet: ${(err as Error).message.split('\n')[0]}`);
      }
    }
    await sleep(500);
  }
  return undefined;
}

/** Load stopped: every sent message acknowledged, then both stores equal to the acknowledged set. */
async function finish(sys: System, stats: LoadStats, clients: LoadClient[]): Promise<{ row: Row; ok: boolean }> {
  const drainDeadline = Date.now() + 60_000;
  while (clients.some((c) => c.pending > 0) && Date.now() < drainDeadline) await sleep(200);
  const unacked = clients.reduce((n, c) => n + c.pending, 0);
  const expected = new Set(stats.acked.values());
  const start = Date.now();
  const counts = await untilStored(sys, expected, CATCH_UP_TIMEOUT_MS);
  await sleep(5000); // a late duplicate would land now
  const alias = elasticNames(sys.names.esPrefix).alias;
  const cassandra = tally(await cassandraIds(sys.cassandra, sys.names.keyspace), expected);
  const elastic = tally(await elasticIds(sys.elastic, alias), expected);
  const exact = (t: Tally) => t.missing === 0 && t.duplicated === 0 && t.unexpected === 0 && t.rows === expected.size;
  // A socket ended for good (not reconnecting) is a client the system dropped: a failure too.
  const ok = unacked === 0 && exact(cassandra) && exact(elastic) && expected.size === stats.acked.size && stats.ended.size === 0;
  const row: Row = {
    step: 'final (load stopped)',
    acked: stats.acked.size,
    ackedDuring: 0,
    cassandra,
    elastic,
    reconnects: stats.reconnects,
    selfExits: exits(sys),
    catchUpS: counts ? (counts.at - start) / 1000 : undefined,
    note: `sent ${stats.sent}, never acknowledged ${unacked}`,
  };
  return { row, ok };
}

function describe(r: Row): string {
  const t = (x: Tally | undefined) => (x ? `${x.found} found (rows ${x.rows}, duplicated ${x.duplicated}, not acked ${x.unexpected})` : '-');
  return `acked ${r.acked} (+${r.ackedDuring}); cassandra ${t(r.cassandra)}; elasticsearch ${t(r.elastic)}; reconnects ${r.reconnects}; self-exits ${r.selfExits}; caught up after ${r.catchUpS?.toFixed(1) ?? '-'} s ${r.note}`;
}

function printReport(rows: Row[], stats: LoadStats, ok: boolean): void {
  const cell = (x: Tally | undefined) => (x ? `${x.found}${x.rows !== x.found ? ` (${x.rows} rows)` : ''}` : '-');
  console.log('\n| step | acked (total, when back) | acked during step | in Cassandra | in Elasticsearch | duplicates | client reconnects | service self-exits | caught up after |');
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const r of rows) {
    if (r.note.startsWith('skipped')) {
      console.log(`| ${r.step} | ${r.note} ||||||||`);
      continue;
    }
    const dups = r.cassandra && r.elastic ? r.cassandra.duplicated + r.elastic.duplicated : '-';
    console.log(`| ${r.step} | ${r.acked} | ${r.ackedDuring} | ${cell(r.cassandra)} | ${cell(r.elastic)} | ${dups} | ${r.reconnects} | ${r.selfExits} | ${r.catchUpS === undefined ? 'NOT' : `${r.catchUpS.toFixed(1)} s`} |`);
  }
  console.log(`\nsent ${stats.sent}, acknowledged ${stats.acked.size}, delivered live ${stats.received}, refused joins ${stats.refusedJoins}, sends skipped (16 unacknowledged) ${stats.skipped}, error frames ${JSON.stringify(Object.fromEntries(stats.errors))}, sockets ended for good ${JSON.stringify(Object.fromEntries(stats.ended))}`);
  console.log(ok ? 'RESULT: PASS, every acknowledged message stored once in Cassandra and once in Elasticsearch' : 'RESULT: FAIL');
}

main().then(
  () => process.exit(process.exitCode ?? 0),
  (err: unknown) => {
    console.error(`drill failed: ${(err as Error).stack ?? String(err)}`);
    process.exit(2);
  },
);
