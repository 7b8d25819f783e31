/**
 * Connections per edge: how much one idle WebSocket costs the edge, and the join rate it
 * sustains, beside the bare uWS peer and the Socket.io peer at the same count in the same run.
 *
 * The test stack (user-svc, room-svc, a stand-in query service) runs in this process, the edge
 * (cmd/chat-realtime-svc/main.ts) and each peer as a process of their own, and the sockets come
 * from BENCH_GENERATORS (3) forked generator processes (bench/load/idle-worker.ts), each under
 * its own fd limit, bound round-robin to BENCH_SOURCES (8) loopback source addresses
 * 127.0.0.2.. so no address runs short of ports. Per server, in turn:
 *
 *   1. BENCH_WARMUP (200) sockets joined and closed (one-time costs: JIT, first channels);
 *   2. before: RSS and, after a full collection, the V8 heap (bench/load/heap-report.ts,
 *      preloaded into every server, so all three are read the same way);
 *   3. BENCH_CONNS (18000) sockets over BENCH_ROOMS (200) rooms, BENCH_JOIN_CONCURRENCY (60)
 *      joins in flight: joins/s and each join's time to the server's "in the room" signal
 *      (Parley: the history frame), p50/p99; the server's and the generators' CPU meanwhile;
 *   4. BENCH_SETTLE_S (3) later: after, as 2; (after - before) / sockets held;
 *   5. BENCH_HOLD_S (5) idle: the server's CPU while it only keeps the sockets alive;
 *   6. close, and the server is stopped.
 * Parley's sockets belong to BENCH_USERS (100) users, 10 per room group (each room's members),
 * so per-user state (sessions, presence entries) is shared by many sockets here.
 *
 * Every phase has a deadline (opening: BENCH_OPEN_DEADLINE_S, 240); the whole run stops itself after BENCH_DEADLINE_S (600),
 * killing the servers and generators it started.
 *
 *   node --import tsx bench/connections.ts
 *   BENCH_CONNS=3000 BENCH_PEERS=0 node --import tsx bench/connections.ts   (Parley only, small)
 */
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defer, runBench } from './load/lifetime.js';
import { cpuSeconds, rssBytes } from './load/proc-stats.js';
import { spawnEdge, startSocketIo, startUwsBare } from './load/servers.js';
import { IdleGenerator, type MergedOpen } from './load/idle-generator.js';
import type { IdleKind, IdleSpec } from './load/idle-protocol.js';
import type { HeapReport } from './load/heap-report.js';
import { newUser, startStack } from '@parley/test-support/realtime-svc';

const env = (name: string, dflt: number) => Number(process.env[name] ?? dflt);
const WANTED = env('BENCH_CONNS', 18_000);
const GENERATORS = env('BENCH_GENERATORS', 3);
const SOURCES = env('BENCH_SOURCES', 8);
const ROOMS = env('BENCH_ROOMS', 200);
const USERS = env('BENCH_USERS', 100);
const GROUP = 10;
const CONCURRENCY = env('BENCH_JOIN_CONCURRENCY', 60);
const WARMUP = env('BENCH_WARMUP', 200);
const SETTLE_S = env('BENCH_SETTLE_S', 3);
const HOLD_S = env('BENCH_HOLD_S', 5);
const DEADLINE_S = env('BENCH_DEADLINE_S', 600);
const OPEN_DEADLINE_S = env('BENCH_OPEN_DEADLINE_S', 240);
const PEERS = process.env['BENCH_PEERS'] !== '0';
const HEAP_REPORT = fileURLToPath(new URL('./load/heap-report.ts', import.meta.url));

/** RLIMIT_NOFILE's hard limit of a process started here: every server inherits it. */
function hardFdLimit(): number {
  const m = /Max open files\s+\d+\s+(\d+|unlimited)/.exec(readFileSync('/proc/self/limits', 'utf8'));
  return !m || m[1] === 'unlimited' ? Number.POSITIVE_INFINITY : Number(m[1]);
}
/** What a server keeps open besides its sockets (NATS, gRPC, Redis, listen sockets, libuv): generous. */
const SERVER_FDS = 500;
const FD_LIMIT = hardFdLimit();
const N = Math.min(WANTED, FD_LIMIT - SERVER_FDS);

/** Everything started here that must not outlive the run. */
const children = new Set<number>();

interface Row {
  server: string;
  sockets: number;
  open: MergedOpen;
  rssBefore: number;
  rssAfter: number;
  heapBefore: HeapReport;
  heapAfter: HeapReport;
  serverCpuPct: number;
  generatorCpuPct: number;
  stackCpuPct: number;
  idleCpuPct: number;
  closedByServer: number;
}

async function main(): Promise<void> {
  const watchdog = setTimeout(() => {
    console.error(`bench/connections.ts: past its ${DEADLINE_S} s deadline, stopping`);
    for (const pid of children) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
    process.exit(2);
  }, DEADLINE_S * 1000);
  watchdog.unref();
  console.log(
    JSON.stringify({
      phase: 'limits',
      wanted: WANTED,
      sockets: N,
      fd_hard_limit: FD_LIMIT,
      note: `100,000 sockets on one edge are not reachable on this machine: RLIMIT_NOFILE's hard limit is ${FD_LIMIT} per process and cannot be raised, and every socket is a file descriptor; ${N} leaves room for the edge's own connections`,
    }),
  );
  // BENCH_HEAP_DIR kept: the heap reports (and snapshots, BENCH_HEAP_SNAPSHOTS=1) stay there.
  const kept = process.env['BENCH_HEAP_DIR'] || undefined;
  const heapDir = kept ?? mkdtempSync(join(tmpdir(), 'bench-conns-'));
  if (!kept) defer(() => rmSync(heapDir, { recursive: true, force: true }));
  const gen = new IdleGenerator(GENERATORS);
  for (const pid of gen.pids) children.add(pid);
  defer(() => gen.kill());

  // BENCH_USERS accounts from one address: user-svc's registration and login limits are raised.
  const s = await startStack(defer, { userEnv: { USER_REGISTER_MAX_PER_IP: '1000000', USER_LOGIN_MAX_PER_IP: '1000000' } });
  const users = await Promise.all(Array.from({ length: USERS }, () => newUser(s.users.http)));
  const groups = Math.max(1, Math.floor(USERS / GROUP));
  const roomIds: string[] = [];
  for (let r = 0; r < ROOMS; r += 20) {
    const batch = Array.from({ length: Math.min(20, ROOMS - r) }, (_, k) => {
      const g = (r + k) % groups;
      const members = users.slice(g * GROUP, g * GROUP + GROUP);
      return s.newRoom(members[0]!, members.slice(1));
    });
    roomIds.push(...(await Promise.all(batch)));
  }
  /** Socket i: room i % ROOMS, one of that room's group's users in turn. */
  const tokenOf = (i: number) => users[((i % ROOMS) % groups) * GROUP + (Math.floor(i / ROOMS) % GROUP)]!.token;
  const source = (i: number) => `127.0.0.${2 + (i % SOURCES)}`;
  const rows: Row[] = [];

  {
    const edge = await spawnEdge(defer, s, { nodeArgs: ['--import', HEAP_REPORT], env: { BENCH_HEAP_DIR: heapDir, BENCH_HEAP_SNAPSHOTS: process.env['BENCH_HEAP_SNAPSHOTS'] ?? '0' } });
    children.add(edge.child.pid!);
    const base = `ws://127.0.0.1:${edge.port}`;
    const spec = (i: number): IdleSpec => ({ url: `${base}/v1/rooms/${roomIds[i % ROOMS]}/ws`, localAddress: source(i), protocols: ['parley.v1', `parley.token.${tokenOf(i)}`] });
    const connections = async () => ((await (await fetch(`http://127.0.0.1:${edge.port}/stats`)).json()) as { connections: number }).connections;
    rows.push(await measure('Parley edge', 'parley', edge.child.pid!, spec, heapDir, gen, async () => waitFor(async () => (await connections()) === 0, 30_000)));
    await stop(edge.child.pid!);
  }
  if (PEERS) {
    // The peers are started by servers.ts, which passes this process's environment on.
    // NODE_OPTIONS' imports run before the command line's, so tsx comes first here too.
    process.env['NODE_OPTIONS'] = `${process.env['NODE_OPTIONS'] ?? ''} --import=tsx --import=${HEAP_REPORT}`.trim();
    process.env['BENCH_HEAP_DIR'] = heapDir;
    const uws = await startUwsBare(ROOMS);
    const sio = await startSocketIo(ROOMS).finally(() => {
      delete process.env['NODE_OPTIONS'];
    });
    for (const p of [uws, sio]) children.add(p.pid);
    defer(() => uws.stop());
    defer(() => sio.stop());
    const settle = () => new Promise((r) => setTimeout(r, 1000));
    rows.push(await measure(uws.name, 'uws', uws.pid, (i) => ({ url: `${uws.target.base}/rooms/room-${i % ROOMS}`, localAddress: source(i) }), heapDir, gen, settle));
    await uws.stop();
    rows.push(await measure(sio.name, 'socketio', sio.pid, (i) => ({ url: sio.target.base, room: `room-${i % ROOMS}`, localAddress: source(i) }), heapDir, gen, settle));
    await sio.stop();
  }
  report(rows);
}

/** One server: warm up, measure the open phase and what the sockets hold, idle, close. */
async function measure(name: string, kind: IdleKind, pid: number, spec: (i: number) => IdleSpec, heapDir: string, gen: IdleGenerator, closed: () => Promise<unknown>): Promise<Row> {
  const deadlineMs = OPEN_DEADLINE_S * 1000;
  if (WARMUP > 0) {
    await gen.open(kind, Array.from({ length: WARMUP }, (_, i) => spec(N + i)), CONCURRENCY, 30_000);
    await gen.close();
    await closed();
  }
  await new Promise((r) => setTimeout(r, 1000));
  const rssBefore = rssBytes(pid);
  const heapBefore = await heapOf(pid, heapDir);
  const specs = Array.from({ length: N }, (_, i) => spec(i));
  const cpu0 = cpuSeconds(pid);
  const stack0 = process.cpuUsage();
  const open = await gen.open(kind, specs, CONCURRENCY, deadlineMs);
  const serverCpu = cpuSeconds(pid) - cpu0;
  const stack = process.cpuUsage(stack0);
  console.log(JSON.stringify({ phase: 'joined', server: name, opened: open.opened, failed: open.failed, not_tried: open.notTried, seconds: round(open.seconds, 1), ...(open.firstError ? { first_error: open.firstError } : {}) }));
  await new Promise((r) => setTimeout(r, SETTLE_S * 1000));
  const rssAfter = rssBytes(pid);
  const heapAfter = await heapOf(pid, heapDir);
  const idle0 = cpuSeconds(pid);
  await new Promise((r) => setTimeout(r, HOLD_S * 1000));
  const idleCpuPct = ((cpuSeconds(pid) - idle0) / HOLD_S) * 100;
  const { held, closedByServer } = await gen.held();
  await gen.close();
  await closed().catch(() => undefined);
  const secs = open.seconds;
  return {
    server: name,
    sockets: held,
    open,
    rssBefore,
    rssAfter,
    heapBefore,
    heapAfter,
    serverCpuPct: (serverCpu / secs) * 100,
    generatorCpuPct: (open.cpuSeconds / secs) * 100,
    stackCpuPct: ((stack.user + stack.system) / 1e6 / secs) * 100,
    idleCpuPct,
    closedByServer,
  };
}

/** The heap of `pid` after a full collection, from its heap-report.ts preload. */
async function heapOf(pid: number, dir: string): Promise<HeapReport> {
  const file = join(dir, `${pid}.json`);
  const last = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as HeapReport).seq : 0;
  process.kill(pid, 'SIGUSR2');
  let r: HeapReport | undefined;
  await waitFor(async () => existsSync(file) && (r = JSON.parse(readFileSync(file, 'utf8')) as HeapReport).seq > last, 20_000);
  return r!;
}

function report(rows: Row[]): void {
  const kb = (b: number) => round(b / 1024, 1);
  for (const r of rows) {
    const per = (a: number, b: number) => (r.sockets > 0 ? (a - b) / r.sockets : Number.NaN);
    console.log(
      JSON.stringify({
        phase: 'connections',
        server: r.server,
        sockets: r.sockets,
        closed_by_server_while_idle: r.closedByServer,
        rss_before_mb: round(r.rssBefore / 2 ** 20, 1),
        rss_after_mb: round(r.rssAfter / 2 ** 20, 1),
        rss_kb_per_socket: kb(per(r.rssAfter, r.rssBefore)),
        heap_kb_per_socket: kb(per(r.heapAfter.heap_used_bytes, r.heapBefore.heap_used_bytes)),
        external_kb_per_socket: kb(per(r.heapAfter.external_bytes, r.heapBefore.external_bytes)),
        heap_committed_kb_per_socket: kb(per(r.heapAfter.heap_total_bytes, r.heapBefore.heap_total_bytes)),
        malloced_kb_per_socket: kb(per(r.heapAfter.malloced_bytes, r.heapBefore.malloced_bytes)),
        rss_brk_kb_per_socket: kb(per(r.heapAfter.rss_brk_bytes, r.heapBefore.rss_brk_bytes)),
        rss_anon_kb_per_socket: kb(per(r.heapAfter.rss_anon_bytes, r.heapBefore.rss_anon_bytes)),
        rss_after_gc_kb_per_socket: kb(per(r.heapAfter.rss_bytes, r.heapBefore.rss_bytes)),
        joins_per_s: Math.round(r.open.opened / r.open.seconds),
        join_concurrency: CONCURRENCY,
        join_p50_ms: round(r.open.latency.percentile(0.5), 1),
        join_p99_ms: round(r.open.latency.percentile(0.99), 1),
        join_max_ms: round(r.open.latency.maxMs, 1),
        failed: r.open.failed,
        server_cpu_pct_joining: Math.round(r.serverCpuPct),
        generator_cpu_pct_joining: Math.round(r.generatorCpuPct),
        stack_cpu_pct_joining: Math.round(r.stackCpuPct),
        server_cpu_pct_idle: round(r.idleCpuPct, 1),
      }),
    );
  }
  console.log(`\n${N} idle sockets per server (${GENERATORS} generator processes, ${SOURCES} source addresses, ${ROOMS} rooms, ${CONCURRENCY} joins in flight):`);
  console.log('| server | sockets held | RSS per socket | RSS per socket after a full GC | V8 heap per socket (after GC) | joins/s | join p50 / p99 (ms) | server CPU joining | generators CPU | server CPU idle |');
  console.log('|---|---|---|---|---|---|---|---|---|---|');
  for (const r of rows) {
    const per = (a: number, b: number) => kb((a - b) / Math.max(1, r.sockets));
    console.log(
      `| ${r.server} | ${r.sockets} | ${per(r.rssAfter, r.rssBefore)} KB | ${per(r.heapAfter.rss_bytes, r.heapBefore.rss_bytes)} KB | ${per(r.heapAfter.heap_used_bytes, r.heapBefore.heap_used_bytes)} KB | ${Math.round(r.open.opened / r.open.seconds)} | ${round(r.open.latency.percentile(0.5), 1)} / ${round(r.open.latency.percentile(0.99), 1)} | ${Math.round(r.serverCpuPct)} % | ${Math.round(r.generatorCpuPct)} % | ${round(r.idleCpuPct, 1)} % |`,
    );
  }
  console.log('(CPU as a share of one core; the machine has 2. The stand-in stack in the runner process serves every Parley join: its CPU is in the JSON lines.)');
  const p = rows.find((r) => r.server === 'Parley edge');
  const u = rows.find((r) => r.server.startsWith('bare'));
  const io = rows.find((r) => r.server.startsWith('Socket.io'));
  const rssKb = (r: Row | undefined) => (r ? `${kb((r.rssAfter - r.rssBefore) / Math.max(1, r.sockets))} KB` : 'not run');
  const perKb = p ? (p.rssAfter - p.rssBefore) / Math.max(1, p.sockets) / 1024 : Number.NaN;
  console.log(
    JSON.stringify({
      phase: 'goal',
      goal: 4,
      title: 'Connections per edge',
      measured: `${p?.sockets ?? 0} idle sockets: ${rssKb(p)} each (bare uWS ${rssKb(u)}, Socket.io ${rssKb(io)}); joins ${p ? Math.round(p.open.opened / p.open.seconds) : 0}/s p99 ${p ? round(p.open.latency.percentile(0.99), 1) : 'n/a'} ms`,
      met: false,
      why: `100,000 sockets cannot be opened on one process here (RLIMIT_NOFILE hard limit ${FD_LIMIT}, not raisable), so only ${N} were measured${perKb <= 4 ? '' : `, and at ${round(perKb, 1)} KB RSS each the edge is above the 4 KB target`}.`,
    }),
  );
}

async function stop(pid: number): Promise<void> {
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  await waitFor(async () => !existsSync(`/proc/${pid}`) || /State:\s+Z/.test(readFileSync(`/proc/${pid}/status`, 'utf8')), 15_000).catch(() => process.kill(pid, 'SIGKILL'));
}

async function waitFor(fn: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await fn().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const round = (x: number, d: number) => Math.round(x * 10 ** d) / 10 ** d;

await runBench(main);
