/**
 * Realtime edge benchmark. Starts user-svc, room-svc and a stand-in query service in this
 * process, the edge (cmd/chat-realtime-svc/main.ts) as a child process, and the WebSocket
 * clients here, so the edge's RSS is its own.
 *
 *   1. memory: RSS delta of the edge per idle connection at BENCH_CONNS (default 10000)
 *   2. latency: BENCH_LAT_CLIENTS (1000) clients in BENCH_ROOMS (100) rooms; one sender per room
 *      sends BENCH_MSGS (20) messages; send-to-receive time over every receiver, p50/p99
 *   3. the cost of watching: on a fresh edge per variant of bench/load/observed.ts (plain, then
 *      /metrics scraped every second and tracing sampled at 1 % and 100 % into a real Zipkin,
 *      then plain again to show the drift), the same clients send BENCH_TRACE_RATE (500) msgs/s
 *      evenly for BENCH_TRACE_SECONDS (10) after 2 s discarded: the edge's CPU per send and
 *      send-to-receive p50/p99, side by side. A steady rate the edge keeps up with: CPU per send
 *      is what watching adds; the bursts of phase 2 measure queueing more than work
 *
 *   node --import tsx bench/realtime.ts      (needs `ulimit -n` above BENCH_CONNS + 1000)
 */
import WebSocket from 'ws';
import type { ChildProcess } from 'node:child_process';
import { defer, runBench } from './load/lifetime.js';
import { benchZipkin, scrapeEvery, traceVariants, tracesOf, variantEnv } from './load/observed.js';
import { cpuSeconds } from './load/proc-stats.js';
import { spawnEdge } from './load/servers.js';
import { newUser, startStack } from '@parley/test-support/realtime-svc';

const N = Number(process.env['BENCH_CONNS'] ?? 10_000);
const LAT_CLIENTS = Number(process.env['BENCH_LAT_CLIENTS'] ?? 1000);
const ROOMS = Number(process.env['BENCH_ROOMS'] ?? 100);
const MSGS = Number(process.env['BENCH_MSGS'] ?? 20);
const TRACE_RATE = Number(process.env['BENCH_TRACE_RATE'] ?? 500);
const TRACE_SECONDS = Number(process.env['BENCH_TRACE_SECONDS'] ?? 10);
const CONCURRENCY = 100;


async function main(): Promise<void> {
  const s = await startStack(defer);
  const { port, child } = await spawnEdge(defer, s);
  const stats = async () => (await (await fetch(`http://127.0.0.1:${port}/stats`)).json()) as { connections: number; rss_bytes: number };

  const users = await Promise.all(Array.from({ length: 10 }, () => newUser(s.users.http)));
  const owner = users[0]!;
  const rooms: string[] = [];
  for (let i = 0; i < ROOMS; i++) rooms.push(await s.newRoom(owner, users.slice(1)));
  const url = (i: number) => `ws://127.0.0.1:${port}/v1/rooms/${rooms[i % ROOMS]}/ws`;
  const tokenOf = (i: number) => users[i % users.length]!.token;

  // 1. Memory per idle connection.
  await new Promise((r) => setTimeout(r, 1000));
  const before = await stats();
  const idle = await openMany(N, (i) => url(i), tokenOf);
  await new Promise((r) => setTimeout(r, 3000));
  const after = await stats();
  const perConn = (after.rss_bytes - before.rss_bytes) / N;
  console.log(JSON.stringify({ phase: 'memory', connections: after.connections, rss_before_mb: mb(before.rss_bytes), rss_after_mb: mb(after.rss_bytes), bytes_per_connection: Math.round(perConn) }));
  for (const ws of idle) ws.terminate();
  await waitFor(async () => (await stats()).connections === 0);

  // 2. Latency: send-to-receive over every receiver.
  const lat = await latencyRun(url, tokenOf, MSGS);
  console.log(JSON.stringify({ phase: 'latency', clients: LAT_CLIENTS, rooms: ROOMS, messages: MSGS * ROOMS, ...lat }));
  await stopEdge(child);

  // 3. The cost of watching: a steady rate on a fresh edge per variant.
  const variants = traceVariants();
  const zipkin = await benchZipkin(variants, defer);
  const rows: string[] = [];
  for (const v of variants) {
    const edge = await spawnEdge(defer, s, { env: variantEnv(v, zipkin) });
    const at = (i: number) => `ws://127.0.0.1:${edge.port}/v1/rooms/${rooms[i % ROOMS]}/ws`;
    const tracesBefore = await tracesOf(zipkin, 'chat-realtime-svc');
    const scraping = v.ratio > 0 ? scrapeEvery([`http://127.0.0.1:${edge.port}/metrics`]) : undefined;
    const r = await steadyRun(at, tokenOf, edge.child.pid!);
    const scraped = scraping?.();
    await new Promise((res) => setTimeout(res, 2500)); // the last batch of spans is exported every second
    const traces = (await tracesOf(zipkin, 'chat-realtime-svc')) - tracesBefore;
    console.log(JSON.stringify({ phase: 'observed', variant: v.label, sample_ratio: v.ratio, ...r, scrapes: scraped?.scrapes ?? 0, traces_in_zipkin: traces }));
    rows.push(`| ${v.label} | ${r.cpu_ms_per_send} ms (${r.edge_cpu_pct} %) | ${r.p50_ms} / ${r.p99_ms} | ${r.deliveries} / ${r.expected} | ${scraped?.scrapes ?? 0} | ${traces} |`);
    await stopEdge(edge.child);
  }
  console.log(`\nwatching the edge (${LAT_CLIENTS} clients in ${ROOMS} rooms, ${TRACE_RATE} sends/s for ${TRACE_SECONDS} s, fresh edge per row, in run order):`);
  console.log('| run | edge CPU per send (share of a core) | send → receive p50 / p99 (ms) | deliveries | /metrics scrapes | traces in Zipkin |');
  console.log('|---|---|---|---|---|---|');
  for (const row of rows) console.log(row);
}

/**
 * LAT_CLIENTS sockets; each room's first client sends in turn, TRACE_RATE sends/s spread
 * evenly (a batch every 20 ms) for 2 s discarded and then TRACE_SECONDS measured; the CPU
 * time of process `pid` over the measured part per send, and send-to-receive over every receiver.
 */
async function steadyRun(url: (i: number) => string, tokenOf: (i: number) => string, pid: number) {
  const samples: number[] = [];
  let counting = false;
  const clients = await openMany(LAT_CLIENTS, url, tokenOf, (data) => {
    const f = JSON.parse(String(data)) as { type: string; message?: { body: string } };
    if (counting && f.type === 'message' && f.message?.body.startsWith('t ')) samples.push(performance.timeOrigin + performance.now() - Number(f.message.body.split(' ')[1]));
  });
  const senders = clients.slice(0, ROOMS);
  const run = Math.random().toString(36).slice(2, 8);
  let n = 0;
  const tick = 20;
  const perTick = (TRACE_RATE * tick) / 1000;
  const sendFor = async (seconds: number, body: () => string) => {
    const start = performance.now();
    for (let t = 0; t < (seconds * 1000) / tick; t++) {
      for (let k = 0; k < perTick; k++) senders[n % ROOMS]!.send(JSON.stringify({ type: 'send', client_msg_id: `${run}-${n++}`, body: body() }));
      const due = start + (t + 1) * tick;
      await new Promise((r) => setTimeout(r, Math.max(0, due - performance.now())));
    }
  };
  await sendFor(2, () => 'warmup');
  await new Promise((r) => setTimeout(r, 500));
  counting = true;
  const cpu0 = cpuSeconds(pid);
  const sent0 = n;
  await sendFor(TRACE_SECONDS, () => `t ${performance.timeOrigin + performance.now()}`);
  const cpu = cpuSeconds(pid) - cpu0;
  const sends = n - sent0;
  const expected = sends * (LAT_CLIENTS / ROOMS);
  await waitFor(async () => samples.length >= expected, 30_000).catch(() => undefined);
  samples.sort((a, b) => a - b);
  const q = (p: number) => Math.round(samples[Math.min(samples.length - 1, Math.floor(p * samples.length))]! * 10) / 10;
  for (const ws of clients) ws.terminate();
  return { sends, deliveries: samples.length, expected, p50_ms: q(0.5), p99_ms: q(0.99), cpu_ms_per_send: Math.round((cpu * 1e6) / sends) / 1000, edge_cpu_pct: Math.round((cpu / TRACE_SECONDS) * 100) };
}

/** Opens LAT_CLIENTS sockets; each room's first client sends `msgs` messages, 100 every 50 ms; send-to-receive over every receiver. */
async function latencyRun(url: (i: number) => string, tokenOf: (i: number) => string, msgs: number) {
  const samples: number[] = [];
  const clients = await openMany(LAT_CLIENTS, url, tokenOf, (data) => {
    const f = JSON.parse(String(data)) as { type: string; message?: { body: string } };
    if (f.type === 'message' && f.message?.body.startsWith('t ')) samples.push(performance.timeOrigin + performance.now() - Number(f.message.body.split(' ')[1]));
  });
  const senders = clients.slice(0, ROOMS);
  const t0 = Date.now();
  for (let m = 0; m < msgs; m++) {
    senders.forEach((ws, r) => ws.send(JSON.stringify({ type: 'send', client_msg_id: `b-${r}-${m}`, body: `t ${performance.timeOrigin + performance.now()}` })));
    await new Promise((r) => setTimeout(r, 50));
  }
  const expected = msgs * LAT_CLIENTS;
  await waitFor(async () => samples.length >= expected, 60_000).catch(() => undefined);
  samples.sort((a, b) => a - b);
  const q = (p: number) => Math.round(samples[Math.min(samples.length - 1, Math.floor(p * samples.length))]! * 10) / 10;
  for (const ws of clients) ws.terminate();
  return { deliveries: samples.length, expected, p50_ms: q(0.5), p99_ms: q(0.99), max_ms: q(1), seconds: (Date.now() - t0) / 1000 };
}

function stopEdge(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

async function openMany(n: number, url: (i: number) => string, token: (i: number) => string, onMessage?: (d: WebSocket.RawData) => void): Promise<WebSocket[]> {
  const out: WebSocket[] = [];
  let next = 0;
  const worker = async () => {
    while (next < n) {
      const i = next++;
      const ws = await joinOne(url(i), token(i));
      if (onMessage) ws.on('message', onMessage);
      out.push(ws);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return out;
}

/**
 * One socket, once its first frame (history) arrived. On the shared machine a join now and then
 * dies before it (1006): it is tried again, at most 3 times, rather than waited for forever.
 */
async function joinOne(url: string, token: string, attempt = 1): Promise<WebSocket> {
  const ws = new WebSocket(url, ['parley.v1'], { headers: { authorization: `Bearer ${token}` }, perMessageDeflate: false });
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no history within 15 s')), 15_000);
      ws.once('message', () => (clearTimeout(timer), resolve()));
      ws.once('error', (err) => (clearTimeout(timer), reject(err)));
      ws.once('close', (code) => (clearTimeout(timer), reject(new Error(`closed ${code} before history`))));
    });
    return ws;
  } catch (err) {
    ws.terminate();
    if (attempt >= 3) throw err;
    return joinOne(url, token, attempt + 1);
  }
}

async function waitFor(fn: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 200));
  }
}

const mb = (b: number) => Math.round(b / 1024 / 102.4) / 10;

await runBench(main);
