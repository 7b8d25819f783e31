/**
 * System failure drill (`make drill`): the whole system (seven services, two edges, as separate
 * processes on random names, see e2e/system.ts) under a steady chat load from real WebSocket
 * clients, while each service in turn is SIGKILLed and restarted and each server is stopped and
 * restarted. Beside the sends, the members edit, delete and react (e2e/change-load.ts), and the
 * drill keeps its own model of what every message should look like (e2e/message-model.ts: body,
 * version, deleted, reaction counts), built only from what it sent and was acknowledged.
 *
 * After every step it waits until both stores hold every message acknowledged so far and reports
 * how long that took; then it holds the changes (sends go on), waits for the ones in flight, and
 * compares every message acknowledged by then, in Cassandra (as @parley/message-store computes
 * it) and in Elasticsearch (its documents), with the model until there is no difference. At the
 * end it checks that both stores hold exactly the acknowledged messages, once, and equal the model.
 *
 *   node --import tsx scripts/drill.ts
 *   DRILL_RATE=40 DRILL_CHANGE_RATE=20 DRILL_CLIENTS=16 DRILL_OUTAGE_S=15 DRILL_STEPS=kafka,nats ...
 *
 * NATS and Redis are the drill's own (e2e/private-servers.ts: free ports, data under the run's
 * folder), restarted like the others. Kafka, Cassandra and Elasticsearch are the machine's and
 * are only stopped when scripts/infra.sh started them; they are stopped for DRILL_OUTAGE_S each,
 * which every other user of this machine's servers notices.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { mkdirSync, writeFileSync } from 'node:fs';
import { elasticNames } from '@parley/clients';
import { uniqueName } from '@parley/test-support';
import { call, newUser } from '@parley/test-support/user-svc';
import { startSystem, type System } from '../e2e/system.js';
import { LoadClient, newStats, type LoadStats } from '../e2e/chat-load.js';
import { ChangeLoad } from '../e2e/change-load.js';
import { summarize, type Difference } from '../e2e/message-model.js';
import { privateNats, privateRedis, type PrivateServer } from '../e2e/private-servers.js';
import { cassandraStates, elasticStates } from '../e2e/store-state.js';
import { cassandraIds, elasticIds, tally, type Tally } from '../e2e/stores.js';

const root = fileURLToPath(new URL('../', import.meta.url));
const env = process.env;
const RATE = Number(env['DRILL_RATE'] ?? 40);
const CHANGE_RATE = Number(env['DRILL_CHANGE_RATE'] ?? 20);
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
  /** Changes acknowledged during the step, and the model's messages compared after it. */
  changesAcked: number;
  compared: number;
  /** Differences from the model still there when the comparison gave up (none: it agreed). */
  differences: Difference[];
  /** Seconds from holding the changes to both stores agreeing with the model. */
  agreeS: number | undefined;
  note: string;
}

async function main(): Promise<void> {
  const logDir = `/tmp/parley-system-${uniqueName('drill')}`;
  mkdirSync(logDir, { recursive: true });
  const servers = { nats: await privateNats(logDir), redis: await privateRedis(logDir) };
  log(`private nats on ${servers.nats.port} (store ${servers.nats.dataDir}), redis on ${servers.redis.port} (${servers.redis.dataDir})`);
  log(`starting the system: 7 services, 2 edges; load ${RATE} msg/s and ${CHANGE_RATE} changes/s from ${CLIENTS} clients in ${ROOMS} rooms`);
  let sys: System | undefined;
  let clients: LoadClient[] = [];
  let changes: ChangeLoad | undefined;
  try {
    sys = await startSystem({
      edges: 2,
      supervise: true,
      logDir,
      natsUrl: servers.nats.url,
      redisUrl: servers.redis.url,
      // The drill measures recovery, not rate limiting: every client is on 127.0.0.1.
      env: { REALTIME_SENDS_PER_USER: '100000', REALTIME_SENDS_PER_IP: '1000000', REALTIME_JOINS_PER_USER: '100000', REALTIME_JOINS_PER_IP: '1000000' },
      onEvent: log,
    });
    log(`system up; logs in ${sys.logDir}`);
    const stats = newStats();
    const load = await connectClients(sys, stats);
    clients = load.clients;
    changes = load.changes;
    const ticker = setInterval(() => clients[Math.floor(Math.random() * clients.length)]!.send(), 1000 / RATE);
    const changeTicker = setInterval(() => changes!.tick(), 1000 / CHANGE_RATE);
    await sleep(5000);
    const rows: Row[] = [];
    for (const step of await steps(sys, servers)) {
      if (ONLY && !ONLY.includes(step.name)) continue;
      rows.push(await runStep(sys, stats, changes, step));
      await sleep(3000);
    }
    clearInterval(ticker);
    clearInterval(changeTicker);
    const final = await finish(sys, stats, clients, changes);
    rows.push(final.row);
    printReport(rows, stats, changes, final.ok);
    writeFileSync(`${sys.logDir}/drill-report.json`, JSON.stringify({ rows, changes: { ...changes.stats, refused: Object.fromEntries(changes.stats.refused) }, ok: final.ok }, null, 2));
    process.exitCode = final.ok ? 0 : 1;
  } finally {
    for (const c of clients) c.stop();
    changes?.stop();
    await sys?.stop();
    await servers.nats.stop();
    await servers.redis.stop();
  }
}

/**
 * Users, rooms (public, joined over REST), one send socket per user, alternating edges, and one
 * change socket per user; every acknowledged send enters the change load's model.
 */
async function connectClients(sys: System, stats: LoadStats): Promise<{ clients: LoadClient[]; changes: ChangeLoad }> {
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
  const changes = new ChangeLoad(
    sys.urls.edges,
    clients.map(({ u, room }, i) => ({ name: `c${i}`, token: u.token, roomId: room, ...(i < ROOMS ? { owns: rooms[i]! } : {}) })),
  );
  stats.onAck = (a) => changes.acked(a.id, a.roomId, a.client, a.body);
  for (const { client } of clients) client.connect();
  changes.connect();
  await sleep(2000);
  return { clients: clients.map((c) => c.client), changes };
}

async function steps(sys: System, servers: Record<'nats' | 'redis', PrivateServer>): Promise<Step[]> {
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
  for (const server of [servers.nats, servers.redis]) {
    out.push({
      name: server.name,
      act: async () => {
        log(`stopping the drill's ${server.name}; back in ${OUTAGE_S} s`);
        await server.restart(OUTAGE_S * 1000);
        log(`${server.name} up again`);
      },
    });
  }
  const owned = await serversWeStarted();
  for (const server of ['kafka', 'cassandra', 'elasticsearch']) {
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

async function runStep(sys: System, stats: LoadStats, changes: ChangeLoad, step: Step): Promise<Row> {
  const before = { acked: stats.acked.size, reconnects: stats.reconnects, exits: exits(sys), changes: changesAcked(changes) };
  log(`step ${step.name}`);
  const skipped = await step.act();
  if (typeof skipped === 'string') {
    log(`skipped: ${skipped}`);
    return { step: step.name, acked: stats.acked.size, ackedDuring: 0, cassandra: undefined, elastic: undefined, reconnects: 0, selfExits: 0, catchUpS: undefined, changesAcked: 0, compared: 0, differences: [], agreeS: undefined, note: `skipped: ${skipped}` };
  }
  const backAt = Date.now();
  const expected = new Set(stats.acked.values());
  const counts = await untilStored(sys, expected, CATCH_UP_TIMEOUT_MS);
  const agreement = await compareWithModel(sys, changes);
  const row: Row = {
    step: step.name,
    acked: expected.size,
    ackedDuring: expected.size - before.acked,
    cassandra: counts?.cassandra,
    elastic: counts?.elastic,
    reconnects: stats.reconnects - before.reconnects,
    selfExits: exits(sys) - before.exits,
    catchUpS: counts ? (counts.at - backAt) / 1000 : undefined,
    changesAcked: changesAcked(changes) - before.changes,
    compared: agreement.compared,
    differences: agreement.differences,
    agreeS: agreement.agreeS,
    note: counts ? '' : 'did not catch up in time',
  };
  log(`step ${step.name}: ${describe(row)}`);
  return row;
}

const exits = (sys: System) => sys.procs.reduce((n, p) => n + p.exits, 0);
const changesAcked = (c: ChangeLoad) => c.stats.acked.edit + c.stats.acked.delete + c.stats.acked.react;

/**
 * Holds the changes (sends go on), waits for those in flight, and reads both stores until every
 * message the model knows by then looks as the model says, or MODEL_TIMEOUT passed. The changes
 * resume afterwards.
 */
async function compareWithModel(sys: System, changes: ChangeLoad, timeoutMs = CATCH_UP_TIMEOUT_MS): Promise<{ compared: number; differences: Difference[]; agreeS: number | undefined }> {
  const start = Date.now();
  changes.pause();
  try {
    if (!(await changes.settled(60_000))) log(`  ${changes.inFlight} changes still unanswered after 60 s; comparing anyway`);
    const ids = changes.model.ids();
    const alias = elasticNames(sys.names.esPrefix).alias;
    const deadline = Date.now() + timeoutMs;
    let differences: Difference[] = [];
    let lastLog = Date.now();
    while (Date.now() < deadline) {
      try {
        const [cql, es] = await Promise.all([cassandraStates(sys.cassandra, sys.names.keyspace), elasticStates(sys.elastic, alias)]);
        differences = [...changes.model.compare('cassandra', cql, ids), ...changes.model.compare('elasticsearch', es, ids)];
        if (differences.length === 0) return { compared: ids.length, differences, agreeS: (Date.now() - start) / 1000 };
      } catch (err) {
        differences = [{ store: 'cassandra', id: '-', field: 'missing', expected: 'an answer', actual: (err as Error).message.split('\n')[0] }];
      }
      if (Date.now() - lastLog > 10_000) {
        lastLog = Date.now();
        log(`  ${differences.length} differences from the model so far: ${JSON.stringify(summarize(differences))}`);
      }
      await sleep(1000);
    }
    log(`  still ${differences.length} differences; first: ${JSON.stringify(differences.slice(0, 5))}`);
    return { compared: ids.length, differences, agreeS: undefined };
  } finally {
    changes.resume();
  }
}

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

/**
 * Load stopped: every sent message and change acknowledged, then both stores equal to the
 * acknowledged set, once each, and to the model.
 */
async function finish(sys: System, stats: LoadStats, clients: LoadClient[], changes: ChangeLoad): Promise<{ row: Row; ok: boolean }> {
  const drainDeadline = Date.now() + 60_000;
  while (clients.some((c) => c.pending > 0) && Date.now() < drainDeadline) await sleep(200);
  const unacked = clients.reduce((n, c) => n + c.pending, 0);
  const expected = new Set(stats.acked.values());
  const start = Date.now();
  const counts = await untilStored(sys, expected, CATCH_UP_TIMEOUT_MS);
  const agreement = await compareWithModel(sys, changes);
  const unansweredChanges = changes.inFlight;
  await sleep(5000); // a late duplicate would land now
  const alias = elasticNames(sys.names.esPrefix).alias;
  const cassandra = tally(await cassandraIds(sys.cassandra, sys.names.keyspace), expected);
  const elastic = tally(await elasticIds(sys.elastic, alias), expected);
  const exact = (t: Tally) => t.missing === 0 && t.duplicated === 0 && t.unexpected === 0 && t.rows === expected.size;
  // A socket ended for good (not reconnecting) is a client the system dropped: a failure too.
  const ok =
    unacked === 0 && unansweredChanges === 0 && exact(cassandra) && exact(elastic) && expected.size === stats.acked.size && stats.ended.size === 0 && agreement.differences.length === 0 && changes.model.size === expected.size;
  const row: Row = {
    step: 'final (load stopped)',
    acked: stats.acked.size,
    ackedDuring: 0,
    cassandra,
    elastic,
    reconnects: stats.reconnects,
    selfExits: exits(sys),
    catchUpS: counts ? (counts.at - start) / 1000 : undefined,
    changesAcked: changesAcked(changes),
    compared: agreement.compared,
    differences: agreement.differences,
    agreeS: agreement.agreeS,
    note: `sent ${stats.sent}, never acknowledged ${unacked}; changes never answered ${unansweredChanges}`,
  };
  return { row, ok };
}

function describe(r: Row): string {
  const t = (x: Tally | undefined) => (x ? `${x.found} found (rows ${x.rows}, duplicated ${x.duplicated}, not acked ${x.unexpected})` : '-');
  const model = `model: ${r.compared} messages compared, ${r.differences.length} differences ${JSON.stringify(summarize(r.differences))}${r.agreeS === undefined ? '' : ` (agreed after ${r.agreeS.toFixed(1)} s)`}`;
  return `acked ${r.acked} (+${r.ackedDuring}), changes acked +${r.changesAcked}; cassandra ${t(r.cassandra)}; elasticsearch ${t(r.elastic)}; reconnects ${r.reconnects}; self-exits ${r.selfExits}; caught up after ${r.catchUpS?.toFixed(1) ?? '-'} s; ${model} ${r.note}`;
}

function printReport(rows: Row[], stats: LoadStats, changes: ChangeLoad, ok: boolean): void {
  const cell = (x: Tally | undefined) => (x ? `${x.found}${x.rows !== x.found ? ` (${x.rows} rows)` : ''}` : '-');
  console.log('\n| step | acked (total, when back) | acked during step | changes acked during step | in Cassandra | in Elasticsearch | duplicates | messages compared with the model | differences | client reconnects | service self-exits | caught up after |');
  console.log('|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const r of rows) {
    if (r.note.startsWith('skipped')) {
      console.log(`| ${r.step} | ${r.note} |||||||||||`);
      continue;
    }
    const dups = r.cassandra && r.elastic ? r.cassandra.duplicated + r.elastic.duplicated : '-';
    console.log(
      `| ${r.step} | ${r.acked} | ${r.ackedDuring} | ${r.changesAcked} | ${cell(r.cassandra)} | ${cell(r.elastic)} | ${dups} | ${r.compared} | ${r.differences.length} | ${r.reconnects} | ${r.selfExits} | ${r.catchUpS === undefined ? 'NOT' : `${r.catchUpS.toFixed(1)} s`} |`,
    );
  }
  const c = changes.stats;
  console.log(`\nsent ${stats.sent}, acknowledged ${stats.acked.size}, delivered live ${stats.received}, refused joins ${stats.refusedJoins}, sends skipped (16 unacknowledged) ${stats.skipped}, error frames ${JSON.stringify(Object.fromEntries(stats.errors))}, sockets ended for good ${JSON.stringify(Object.fromEntries(stats.ended))}`);
  console.log(
    `changes issued ${JSON.stringify(c.issued)}, acknowledged ${JSON.stringify(c.acked)}, refused for good ${JSON.stringify(Object.fromEntries(c.refused))}, resent ${c.resent}, change-socket reconnects ${c.reconnects}, messages left out as uncertain ${changes.model.uncertainCount}`,
  );
  console.log(ok ? 'RESULT: PASS, every acknowledged message stored once in Cassandra and once in Elasticsearch, both equal to the model' : 'RESULT: FAIL');
}

main().then(
  () => process.exit(process.exitCode ?? 0),
  (err: unknown) => {
    console.error(`drill failed: ${(err as Error).stack ?? String(err)}`);
    process.exit(2);
  },
);
