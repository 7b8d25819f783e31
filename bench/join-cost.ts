/**
 * What a join costs, with and without the edge's membership cache, side by side in one run:
 * the stack as bench/realtime.ts starts it (user-svc, room-svc and the stand-in query service in
 * this process), one edge process per variant (REALTIME_MEMBERSHIP_CACHE_MS=0: room-svc asked on
 * every join, as before; then the default), BENCH_JOINS (1500) joins of BENCH_USERS (50) members
 * into BENCH_ROOMS (20) rooms, BENCH_CONCURRENCY (20) at a time, each: open, wait for the history
 * frame, close. Per variant: joins/s, join latency p50/p99, room-svc CheckMembership and
 * user-svc ValidateSession calls per join (their own Prometheus counters), edge CPU per join.
 *
 *   node --import tsx bench/join-cost.ts
 */
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { defer, runBench } from './load/lifetime.js';
import { cpuSeconds } from './load/proc-stats.js';
import { spawnEdge } from './load/servers.js';
import { grpcServerCalls } from '@parley/test-support';
import { newUser, startStack } from '@parley/test-support/realtime-svc';

const num = (k: string, d: number) => Number(process.env[k] ?? d);
const JOINS = num('BENCH_JOINS', 1500);
const USERS = num('BENCH_USERS', 50);
const ROOMS = num('BENCH_ROOMS', 20);
const CONCURRENCY = num('BENCH_CONCURRENCY', 20);

function joinOnce(url: string, token: string): Promise<number> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, ['parley.v1'], { headers: { authorization: `Bearer ${token}` } });
    ws.on('message', (d) => {
      if ((JSON.parse(String(d)) as { type: string }).type !== 'history') return;
      const ms = performance.now() - t0;
      ws.once('close', () => resolve(ms));
      ws.close();
    });
    ws.once('error', reject);
    ws.once('unexpected-response', (_q, res) => reject(new Error(`join refused ${res.statusCode}`)));
  });
}

async function main(): Promise<void> {
  // Every member registers from 127.0.0.1: the per-address limits are raised for the bench.
  const s = await startStack(defer, { userEnv: { USER_REGISTER_MAX_PER_IP: '100000', USER_LOGIN_MAX_PER_IP: '100000' } });
  const users = await Promise.all(Array.from({ length: USERS }, () => newUser(s.users.http)));
  const rooms: string[] = [];
  for (let i = 0; i < ROOMS; i++) rooms.push(await s.newRoom(users[0]!, users.slice(1)));
  const rows: Array<Record<string, number | string>> = [];
  for (const [label, cacheMs] of [['room-svc asked on every join (cache 0)', '0'], ['membership cache (default 5 s)', '5000']] as const) {
    const { port, child } = await spawnEdge(defer, s, { env: { REALTIME_MEMBERSHIP_CACHE_MS: cacheMs } });
    const url = (i: number) => `ws://127.0.0.1:${port}/v1/rooms/${rooms[i % ROOMS]}/ws`;
    // Warm-up, not counted: JIT, gRPC channels, the session cache.
    for (let i = 0; i < 100; i++) await joinOnce(url(i), users[i % USERS]!.token);
    const [members0, sessions0, cpu0, t0] = [await grpcServerCalls(s.rooms.http, 'CheckMembership'), await grpcServerCalls(s.users.http, 'ValidateSession'), cpuSeconds(child.pid!), performance.now()];
    const gen0 = process.cpuUsage();
    const lat: number[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < JOINS) {
          const i = next++;
          lat.push(await joinOnce(url(i), users[i % USERS]!.token));
        }
      }),
    );
    const seconds = (performance.now() - t0) / 1000;
    const cpu = cpuSeconds(child.pid!) - cpu0;
    const gen = process.cpuUsage(gen0);
    lat.sort((a, b) => a - b);
    const q = (p: number) => Math.round(lat[Math.min(lat.length - 1, Math.floor(p * lat.length))]! * 10) / 10;
    const row = {
      variant: label,
      joins: JOINS,
      joins_per_s: Math.round(JOINS / seconds),
      p50_ms: q(0.5),
      p99_ms: q(0.99),
      membership_calls_per_join: Math.round((((await grpcServerCalls(s.rooms.http, 'CheckMembership')) - members0) / JOINS) * 1000) / 1000,
      session_calls_per_join: Math.round((((await grpcServerCalls(s.users.http, 'ValidateSession')) - sessions0) / JOINS) * 1000) / 1000,
      edge_cpu_ms_per_join: Math.round((cpu * 1e6) / JOINS) / 1000,
      // This process: the load generator, and user-svc, room-svc and the stand-in query service beside it.
      generator_cpu_pct: Math.round(((gen.user + gen.system) / 1e6 / seconds) * 100),
    };
    console.log(JSON.stringify({ phase: 'join-cost', ...row }));
    rows.push(row);
    await new Promise<void>((resolve) => (child.once('exit', () => resolve()), child.kill('SIGTERM')));
  }
  console.log(`\njoins of ${USERS} members into ${ROOMS} rooms, ${CONCURRENCY} at a time, ${JOINS} per variant, fresh edge per row:`);
  console.log('| variant | joins/s | join p50 / p99 (ms) | membership calls per join | session calls per join | edge CPU per join | generator CPU (with user-svc, room-svc) |');
  console.log('|---|---|---|---|---|---|---|');
  for (const r of rows) console.log(`| ${r.variant} | ${r.joins_per_s} | ${r.p50_ms} / ${r.p99_ms} | ${r.membership_calls_per_join} | ${r.session_calls_per_join} | ${r.edge_cpu_ms_per_join} ms | ${r.generator_cpu_pct} % |`);
  const [off, on] = rows as [Record<string, number>, Record<string, number>];
  const met = on.membership_calls_per_join < 0.5 * off.membership_calls_per_join;
  console.log(
    JSON.stringify({
      phase: 'goal',
      goal: 5,
      title: 'Join cost',
      measured: `room-svc/user-svc calls per join ${(on.membership_calls_per_join + on.session_calls_per_join).toFixed(2)} (membership ${on.membership_calls_per_join}, session ${on.session_calls_per_join}) vs ${(off.membership_calls_per_join + off.session_calls_per_join).toFixed(2)} uncached, plus history and unread counts from chat-query-svc; ${on.joins_per_s} vs ${off.joins_per_s} joins/s, p99 ${on.p99_ms} vs ${off.p99_ms} ms, edge CPU ${on.edge_cpu_ms_per_join} vs ${off.edge_cpu_ms_per_join} ms per join`,
      met,
      why: met
        ? 'membership answers are reused and dropped by the removal event itself (test-int/membership-cache.test.ts: a removed member is refused at once under a minute of caching); history stays one call per join'
        : 'the cache did not take membership calls below half of the uncached count',
    }),
  );
}

await runBench(main);
