/**
 * Realtime edge benchmark. Starts user-svc, room-svc and a stand-in query service in this
 * process, the edge (cmd/chat-realtime-svc/main.ts) as a child process, and the WebSocket
 * clients here, so the edge's RSS is its own.
 *
 *   1. memory: RSS delta of the edge per idle connection at BENCH_CONNS (default 10000)
 *   2. latency: BENCH_LAT_CLIENTS (1000) clients in BENCH_ROOMS (100) rooms; one sender per room
 *      sends BENCH_MSGS (20) messages; send-to-receive time over every receiver, p50/p99
 *   3. the cost of watching: the latency run again (BENCH_TRACE_MSGS (40) messages per sender,
 *      after 5 discarded) on a fresh edge per variant of bench/load/observed.ts: plain, then
 *      /metrics scraped every second and tracing sampled at 1 % and 100 % into a real Zipkin;
 *      send-to-receive p50/p99 and the edge's CPU over the run, side by side
 *
 *   node --import tsx bench/realtime.ts      (needs `ulimit -n` above BENCH_CONNS + 1000)
 */
import WebSocket from 'ws';
import type { ChildProcess } from 'node:child_process';
import { defer, runBench } from './load/lifetime.js';
import { benchZipkin, scrapeEvery, traceVariants, tracesOf, variantEnv } from './load/observed.js';
import { ProcWatch } from './load/proc-stats.js';
import { spawnEdge } from './load/servers.js';
import { newUser, startStack } from '@parley/test-support/realtime-svc';

const N = Number(process.env['BENCH_CONNS'] ?? 10_000);
const LAT_CLIENTS = Number(process.env['BENCH_LAT_CLIENTS'] ?? 1000);
const ROOMS = Number(process.env['BENCH_ROOMS'] ?? 100);
const MSGS = Number(process.env['BENCH_MSGS'] ?? 20);
const TRACE_MSGS = Number(process.env['BENCH_TRACE_MSGS'] ?? 40);
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
  const lat = await latencyRun(url, tokenOf, MSGS, 0);
  console.log(JSON.stringify({ phase: 'latency', clients: LAT_CLIENTS, rooms: ROOMS, messages: MSGS * ROOMS, ...lat }));
  await stopEdge(child);

  // 3. The same on a fresh edge per variant: plain, then scraped and traced.
  const variants = traceVariants();
  const zipkin = await benchZipkin(variants, defer);
  const rows: string[] = [];
  for (const v of variants) {
    const edge = await spawnEdge(defer, s, { env: variantEnv(v, zipkin) });
    const at = (i: number) => `ws://127.0.0.1:${edge.port}/v1/rooms/${rooms[i % ROOMS]}/ws`;
    const tracesBefore = await tracesOf(zipkin, 'chat-realtime-svc');
    const scraping = v.ratio > 0 ? scrapeEvery([`http://127.0.0.1:${edge.port}/metrics`]) : undefined;
    const r = await latencyRun(at, tokenOf, TRACE_MSGS, 5, edge.child.pid!);
    const scraped = scraping?.();
    await new Promise((res) => setTimeout(res, 2500)); // the last batch of spans is exported every second
    const traces = (await tracesOf(zipkin, 'chat-realtime-svc')) - tracesBefore;
    console.log(JSON.stringify({ phase: 'observed', variant: v.label, sample_ratio: v.ratio, ...r, scrapes: scraped?.scrapes ?? 0, traces_in_zipkin: traces }));
    rows.push(`| ${v.label} | ${r.p50_ms} / ${r.p99_ms} | ${r.edge_cpu_pct} % | ${r.deliveries} / ${r.expected} | ${scraped?.scrapes ?? 0} | ${traces} |`);
    await stopEdge(edge.child);
  }
  console.log(`\nwatching the edge (${LAT_CLIENTS} clients, ${ROOMS} rooms, ${TRACE_MSGS * ROOMS} sends in bursts of ${ROOMS} every 50 ms, fresh edge per row):`);
  console.log('| run | send → receive p50 / p99 (ms) | edge CPU | deliveries | /metrics scrapes | traces in Zipkin |');
  console.log('|---|---|---|---|---|---|');
  for (const row of rows) console.log(row);
}

/**
 * Opens LAT_CLIENTS sockets, and each room's first client sends `msgs` messages (100 every
 * 50 ms over all rooms) after `warmup` discarded rounds; send-to-receive over every receiver,
 * and the CPU of process `pid` over the measured rounds.
 */
async function latencyRun(url: (i: number) => string, tokenOf: (i: number) => string, msgs: number, warmup: number, pid?: number) {
  const samples: number[] = [];
  let counting = warmup === 0;
  const clients = await openMany(LAT_CLIENTS, url, tokenOf, (data) => {
    const f = JSON.parse(String(data)) as { type: string; message?: { body: string } };
    if (counting && f.type === 'message' && f.message?.body.startsWith('t ')) samples.push(performance.timeOrigin + performance.now() - Number(f.message.body.split(' ')[1]));
  });
  const senders = clients.slice(0, ROOMS);
  // Fresh client_msg_ids per run: the stream would take a repeat within its duplicate window for a retry.
  const run = Math.random().toString(36).slice(2, 8);
  const round = (tag: string, m: number, body: string) => senders.forEach((ws, r) => ws.send(JSON.stringify({ type: 'send', client_msg_id: `${run}-${tag}-${r}-${m}`, body })));
  for (let m = 0; m < warmup; m++) {
    round('w', m, 'warmup');
    await new Promise((r) => setTimeout(r, 50));
  }
  await new Promise((r) => setTimeout(r, warmup > 0 ? 1000 : 0));
  counting = true;
  const watch = pid === undefined ? undefined : new ProcWatch([pid]);
  const t0 = Date.now();
  for (let m = 0; m < msgs; m++) {
    round('b', m, `t ${performance.timeOrigin + performance.now()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const expected = msgs * LAT_CLIENTS;
  await waitFor(async () => samples.length >= expected, 60_000).catch(() => undefined);
  const cpu = watch?.stop()[0]?.cpuPct;
  samples.sort((a, b) => a - b);
  const q = (p: number) => Math.round(samples[Math.min(samples.length - 1, Math.floor(p * samples.length))]! * 10) / 10;
  for (const ws of clients) ws.terminate();
  return { deliveries: samples.length, expected, p50_ms: q(0.5), p99_ms: q(0.99), max_ms: q(1), seconds: (Date.now() - t0) / 1000, ...(cpu === undefined ? {} : { edge_cpu_pct: Math.round(cpu) }) };
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
