/**
 * Rooms per edge (goal 3 of the scale issue): one edge process with many rooms, whichever room
 * fanout design the edge has (it is named from what the edge made of the stream).
 *
 *   1. rooms:    BENCH_ROOMS (10,000) rooms through room-svc's REST, BENCH_CREATE_CONCURRENCY
 *                (32) at a time: rooms/s
 *   2. joins:    one socket per room, BENCH_JOIN_CONCURRENCY (100) at a time: joins/s, join
 *                latency (upgrade request → history frame) p50/p99; the edge's RSS, the NATS
 *                server's RSS growth and the consumers on the message stream; then 5 s idle:
 *                edge and NATS CPU
 *   3. steady:   BENCH_RATE (1,000) sends/s spread round-robin over all rooms for BENCH_SECONDS
 *                (10): delivered/expected (each room's one socket gets its own message back),
 *                send→receive p50/p99, edge, NATS server and generator CPU, NATS peak RSS
 *   4. big room: one room of BENCH_BIG_SOCKETS (5,000) sockets held by BENCH_BIG_USERS (500)
 *                members (registered with a cheap scrypt cost, for this bench only),
 *                BENCH_BIG_RATE (20) sends/s for BENCH_SECONDS: deliveries/s against
 *                sockets × rate expected, p50/p99, edge CPU per delivery
 *   probe:       bench/nats-fanout-probe.ts at BENCH_PROBE_ROOMS (100,000), short windows: the
 *                NATS side of 100,000 rooms, which no single edge can hold sockets for here.
 *                Its RePublish designs run first and its per-room consumers last, so each
 *                design's server RSS growth is seen before a heavier one's freed heap hides it
 *
 * Every phase has its own deadline, and ends by closing what it opened. The last line is the
 * goal's row for the report.
 *
 *   node --import tsx bench/rooms.ts      (needs `ulimit -n` above BENCH_ROOMS + 1000)
 */
import { defer, runBench } from './load/lifetime.js';
import { Histogram } from './load/histogram.js';
import { ProcWatch, cpuSeconds, rssBytes } from './load/proc-stats.js';
import { natsServerPid } from './load/nats-server.js';
import { spawnEdge } from './load/servers.js';
import { closeAll, frameSink, joinMany, newTally, sendSteady, type JoinResult, type Tally } from './load/room-sockets.js';
import { probeTable, runFanoutProbe, type ProbeOptions, type ProbeRow } from './nats-fanout-probe.js';
import type { DesignKey } from './load/fanout-designs.js';
import { call, newUser, startStack } from '@parley/test-support/realtime-svc';

const env = (k: string, d: number) => Number(process.env[k] ?? d);
const ROOMS = env('BENCH_ROOMS', 10_000);
const CREATE_CONCURRENCY = env('BENCH_CREATE_CONCURRENCY', 32);
const JOIN_CONCURRENCY = env('BENCH_JOIN_CONCURRENCY', 100);
const RATE = env('BENCH_RATE', 1000);
const SECONDS = env('BENCH_SECONDS', 10);
const BIG_SOCKETS = env('BENCH_BIG_SOCKETS', 5000);
const BIG_USERS = env('BENCH_BIG_USERS', 500);
const BIG_RATE = env('BENCH_BIG_RATE', 20);
const PROBE_ROOMS = env('BENCH_PROBE_ROOMS', 100_000);
const PROBE_RATE = 2000;
const USERS = 20;
/** Per phase, in seconds: room creation, joins, and the big room's setup. */
const DEADLINE_S = { create: env('BENCH_CREATE_DEADLINE_S', 45), join: env('BENCH_JOIN_DEADLINE_S', 90), big: env('BENCH_BIG_DEADLINE_S', 40) };
/** The NOFILE limit of one process, which no setting here can raise. */
const FD_LIMIT = 20_000;

type Stack = Awaited<ReturnType<typeof startStack>>;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const mb = (b: number) => Math.round(b / 1024 / 102.4) / 10;
const r1 = (x: number) => Math.round(x * 10) / 10;
const selfCpu = () => (process.cpuUsage().user + process.cpuUsage().system) / 1e6;
const quantiles = (h: Histogram) => ({ p50_ms: r1(h.percentile(0.5)), p99_ms: r1(h.percentile(0.99)) });

async function main(): Promise<void> {
  const natsPid = natsServerPid();
  if (natsPid === undefined) throw new Error('no nats-server found on the project NATS port');
  // Thousands of members registered from one address in seconds: a cheap scrypt cost and no
  // registration or login limit per address (this bench only).
  const s = await startStack(defer, { userEnv: { USER_SCRYPT_LOG_N: '10', USER_REGISTER_MAX_PER_IP: '1000000', USER_LOGIN_MAX_PER_IP: '1000000' } });
  const edge = await spawnEdge(defer, s);
  const edgePid = edge.child.pid!;
  const base = `ws://127.0.0.1:${edge.port}`;
  const stats = async () => (await (await fetch(`http://127.0.0.1:${edge.port}/stats`)).json()) as { connections: number; rooms: number; nats_subscriptions: number; rss_bytes: number };
  const users = await manyUsers(s, USERS, 10);

  // 0. The probe's light designs at PROBE_ROOMS first, while the NATS server's heap is small
  // (it reuses what a heavier run freed, which would hide their growth).
  const probe = await runFanoutProbe(probeOptions(['republish-subs', 'republish-demux'], 60), (row) => console.log(JSON.stringify({ phase: 'probe', ...row })));

  // 1. Rooms.
  const createWatch = watchAll(edgePid, natsPid);
  const created = await createRooms(s, users, ROOMS);
  Object.assign(created, createWatch());
  console.log(JSON.stringify({ phase: 'rooms', ...created, ids: undefined, rooms: created.ids.length }));

  // 2. Joins, then idle.
  const design = await designOf(s);
  const nats0 = rssBytes(natsPid);
  const edge0 = rssBytes(edgePid);
  const joinWatch = watchAll(edgePid, natsPid);
  const joined = await joinMany(base, created.ids, (i) => users[i % USERS]!.token, JOIN_CONCURRENCY, Date.now() + DEADLINE_S.join * 1000);
  const joinCpu = joinWatch();
  await sleep(2000);
  const st = await stats();
  const consumers = (await s.nats.jsm.streams.info(s.stream)).state.consumer_count;
  const joins = joinRow(joined, { design, edge_rooms: st.rooms, edge_nats_subscriptions: st.nats_subscriptions, stream_consumers: consumers, edge_rss_mb: mb(st.rss_bytes), ...joinCpu, edge_rss_growth_mb: mb(st.rss_bytes - edge0), nats_rss_mb: mb(rssBytes(natsPid)), nats_rss_growth_mb: mb(rssBytes(natsPid) - nats0) });
  console.log(JSON.stringify({ phase: 'joins', ...joins }));
  const idle = new ProcWatch([edgePid, natsPid]);
  await sleep(5000);
  const [idleEdge, idleNats] = idle.stop();
  console.log(JSON.stringify({ phase: 'idle', sockets: joined.held.length, edge_cpu_pct: r1(idleEdge!.cpuPct), nats_cpu_pct: r1(idleNats!.cpuPct) }));

  // 3. Steady sends over every room.
  const steady = await steadyRun('t', joined.held.map((h) => h.ws), RATE, 1, [edgePid, natsPid]);
  console.log(JSON.stringify({ phase: 'steady', rooms: joined.held.length, rate: RATE, seconds: SECONDS, ...steady }));
  closeAll(joined.held);
  await untilQuiet(stats);

  // 100,000 idle rooms on one edge are 100,000 sockets here (one per room, each an fd on both ends).
  console.log(JSON.stringify({ phase: 'idle-100k', measured: false, why: `100,000 sockets need 100,000 fds in the edge and as many in the clients; one process may hold ${FD_LIMIT} (RLIMIT_NOFILE, not raisable here), so the NATS side of 100,000 rooms is carried by the probe below` }));

  // 4. One big room.
  const big = await bigRoom(s, base, edgePid, natsPid);
  console.log(JSON.stringify({ phase: 'big-room', ...big }));

  // 5. The per-room consumers at PROBE_ROOMS last: they grow the server's heap most.
  probe.push(...(await runFanoutProbe(probeOptions(['consumers'], 60), (row) => console.log(JSON.stringify({ phase: 'probe', ...row })))));
  console.log(`\nfanout designs at ${PROBE_ROOMS} rooms on one connection (${PROBE_RATE} msgs/s for 5 s):\n${probeTable(probe)}\n`);

  console.log(JSON.stringify(goalRow(joins, steady, big, probe)));
}

/** Short windows: the probe is one phase of this bench, not the whole of it. */
function probeOptions(designs: DesignKey[], totalS: number): ProbeOptions {
  return { rooms: [PROBE_ROOMS], designs, ratePerS: PROBE_RATE, publishSeconds: 5, idleSeconds: 3, createDeadlineS: 15, until: Date.now() + totalS * 1000 };
}

/** CPU of the edge, the NATS server and this process (the clients, user-svc, room-svc, the query stand-in) from now until the returned function is called. */
function watchAll(edgePid: number, natsPid: number): () => { edge_cpu_pct: number; nats_cpu_pct: number; generator_cpu_pct: number } {
  const w = new ProcWatch([edgePid, natsPid]);
  const [g0, t0] = [selfCpu(), performance.now()];
  return () => {
    const [e, n] = w.stop();
    return { edge_cpu_pct: r1(e!.cpuPct), nats_cpu_pct: r1(n!.cpuPct), generator_cpu_pct: r1(((selfCpu() - g0) / ((performance.now() - t0) / 1000)) * 100) };
  };
}

async function manyUsers(s: Stack, n: number, concurrency: number) {
  const out: Array<Awaited<ReturnType<typeof newUser>>> = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) {
        next++;
        out.push(await newUser(s.users.http));
      }
    }),
  );
  return out;
}

/** `n` public rooms, owned round-robin by `users` (so socket i's user owns room i). */
async function createRooms(s: Stack, users: Array<{ token: string }>, n: number) {
  const ids: string[] = [];
  const deadline = Date.now() + DEADLINE_S.create * 1000;
  let next = 0;
  let failed = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CREATE_CONCURRENCY }, async () => {
      while (next < n && Date.now() < deadline) {
        const i = next++;
        const res = await call(s.rooms.http, 'POST', '/v1/rooms', { token: users[i % users.length]!.token, body: { name: `r${i}`, visibility: 'public' } }).catch(() => undefined);
        if (res?.status === 201) ids[i] = res.body.room.id as string;
        else failed++;
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  const made = ids.filter(Boolean);
  return { ids: made, failed, seconds: r1(seconds), rooms_per_s: Math.round(made.length / seconds), ...(made.length < n ? { stopped_by: `create deadline: ${made.length} of ${n}` } : {}) };
}

/** Which fanout the edge in this tree runs, from what it made of the message stream. */
async function designOf(s: Stack): Promise<string> {
  const info = await s.nats.jsm.streams.info(s.stream).catch(() => undefined);
  return info?.config.republish ? 'RePublish to core subjects, a subscription per room' : 'an ordered consumer per room';
}

function joinRow<E extends object>(j: JoinResult, extra: E) {
  return { joined: j.held.length, failed: j.failed, ...(j.firstError ? { first_error: j.firstError } : {}), ...(j.stoppedBy ? { stopped_by: j.stoppedBy } : {}), seconds: r1(j.seconds), joins_per_s: Math.round(j.held.length / j.seconds), ...quantiles(j.latency), ...extra };
}

/** `rate` sends/s over `senders` for SECONDS; each send is expected `fanout` times. */
async function steadyRun(tag: string, senders: import('ws').WebSocket[], rate: number, fanout: number, pids: number[]) {
  const tally: Tally = newTally(tag);
  frameSink.current = tally;
  const watch = new ProcWatch(pids);
  const gen0 = selfCpu();
  const t0 = performance.now();
  const sent = await sendSteady(senders, tag, rate, SECONDS);
  const window = (performance.now() - t0) / 1000;
  const inWindow = tally.delivered;
  const genCpu = selfCpu() - gen0;
  const [edgeW, natsW] = watch.stop();
  const expected = sent * fanout;
  const until = Date.now() + 10_000;
  while (tally.delivered < expected && Date.now() < until) await sleep(100);
  frameSink.current = undefined;
  return {
    sent,
    acked: tally.acked,
    errors: tally.errors,
    closed: tally.closed,
    delivered: tally.delivered,
    expected,
    delivered_per_s_in_window: Math.round(inWindow / window),
    ...quantiles(tally.latency),
    edge_cpu_pct: r1(edgeW!.cpuPct),
    nats_cpu_pct: r1(natsW!.cpuPct),
    nats_peak_rss_mb: mb(natsW!.peakRss),
    generator_cpu_pct: r1((genCpu / window) * 100),
  };
}

/**
 * One room with BIG_SOCKETS sockets of BIG_USERS members (round-robin: registering 5,000 users
 * takes minutes on the shared machine, and the edge's fanout work is per socket, not per user);
 * BIG_RATE sends/s from its first 20 sockets.
 */
async function bigRoom(s: Stack, base: string, edgePid: number, natsPid: number) {
  const deadline = Date.now() + DEADLINE_S.big * 1000;
  const t0 = performance.now();
  const owner = await newUser(s.users.http);
  const room = await s.newRoom(owner);
  const members = [owner];
  let next = 1;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < BIG_USERS && Date.now() < deadline) {
        next++;
        const u = await newUser(s.users.http);
        const j = await call(s.rooms.http, 'POST', `/v1/rooms/${room}/join`, { token: u.token });
        if (j.status === 200 || j.status === 201) members.push(u);
      }
    }),
  );
  const setupS = r1((performance.now() - t0) / 1000);
  const joined = await joinMany(base, Array.from({ length: BIG_SOCKETS }, () => room), (i) => members[i % members.length]!.token, JOIN_CONCURRENCY, deadline + 60_000);
  const joins = joinRow(joined, {});
  const cpu0 = cpuSeconds(edgePid);
  const run = await steadyRun('b', joined.held.slice(0, 20).map((h) => h.ws), BIG_RATE, joined.held.length, [edgePid, natsPid]);
  const cpuPerDelivery = ((cpuSeconds(edgePid) - cpu0) * 1e6) / Math.max(1, run.delivered);
  closeAll(joined.held);
  return { sockets: joined.held.length, members: members.length, member_setup_s: setupS, ...(members.length < BIG_USERS ? { stopped_by: `member setup deadline: ${members.length} of ${BIG_USERS}` } : {}), joins, rate: BIG_RATE, ...run, edge_cpu_us_per_delivery: r1(cpuPerDelivery) };
}

async function untilQuiet(stats: () => Promise<{ connections: number }>): Promise<void> {
  const until = Date.now() + 20_000;
  while ((await stats()).connections > 0 && Date.now() < until) await sleep(250);
}

type Steady = Awaited<ReturnType<typeof steadyRun>>;
type Joins = ReturnType<typeof joinRow<{ design: string; stream_consumers: number; nats_rss_mb: number; nats_rss_growth_mb: number }>>;
function goalRow(joins: Joins, steady: Steady, big: Awaited<ReturnType<typeof bigRoom>>, probe: ProbeRow[]) {
  const p = (d: string) => probe.find((r) => r.design === d);
  const probeText = (d: string, label: string) => {
    const r = p(d);
    if (!r) return `${label} not run`;
    if (r.stopped_by) return `${label} stopped (${r.stopped_by})`;
    return `${label} ${r.create_s} s to create, NATS +${r.nats_rss_growth_mb} MB, NATS CPU ${r.nats_cpu_pct} % at ${PROBE_RATE.toLocaleString('en')} msg/s, ${r.delivered}/${r.expected} p99 ${r.p99_ms} ms`;
  };
  const fullRooms = joins.joined >= ROOMS && joins.failed === 0;
  const steadyOk = steady.delivered >= steady.expected && steady.p99_ms < 1000;
  const bigOk = big.sockets >= BIG_SOCKETS && big.delivered >= big.expected && big.p99_ms < 1000;
  const met = fullRooms && steadyOk && bigOk;
  const measured =
    `${joins.joined.toLocaleString('en')} rooms (${joins.design}): joins ${joins.joins_per_s}/s p99 ${joins.p99_ms} ms, ${RATE}/s sends p99 ${steady.p99_ms} ms ${steady.delivered}/${steady.expected}, ` +
    `edge CPU ${steady.edge_cpu_pct} %, NATS CPU ${steady.nats_cpu_pct} % RSS ${joins.nats_rss_mb} MB (${joins.nats_rss_growth_mb >= 0 ? '+' : ''}${joins.nats_rss_growth_mb} MB over the joins, ${joins.stream_consumers} stream consumers); ` +
    `room of ${big.sockets.toLocaleString('en')} sockets (${big.members} members): ${big.delivered_per_s_in_window}/s delivered of ${big.rate * big.sockets}/s, p99 ${big.p99_ms} ms, edge CPU ${big.edge_cpu_pct} %; ` +
    `probe at ${PROBE_ROOMS.toLocaleString('en')} rooms: ${probeText('consumers', 'consumers')}; ${probeText('republish-subs', 'RePublish + subscriptions')}; 100,000 sockets: not measurable (fd limit)`;
  const why = met
    ? 'every room joined and every message arrived within a second at both shapes; 100,000 idle rooms is shown on the NATS side only, by the probe'
    : !fullRooms
      ? `only ${joins.joined} of ${ROOMS} rooms joined${joins.stopped_by ? ` (${joins.stopped_by})` : ''}`
      : !steadyOk
        ? `the steady run over all rooms delivered ${steady.delivered}/${steady.expected} with p99 ${steady.p99_ms} ms`
        : `the ${big.sockets}-socket room delivered ${big.delivered}/${big.expected} with p99 ${big.p99_ms} ms`;
  return { phase: 'goal', goal: 3, title: 'Rooms per edge', measured, met, why };
}

await runBench(main);
