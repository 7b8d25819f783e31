/**
 * Realtime edge benchmark. Starts user-svc, room-svc and a stand-in query service in this
 * process, the edge (cmd/chat-realtime-svc/main.ts) as a child process, and the WebSocket
 * clients here, so the edge's RSS is its own.
 *
 *   1. memory: RSS delta of the edge per idle connection at BENCH_CONNS (default 10000)
 *   2. latency: BENCH_LAT_CLIENTS (1000) clients in BENCH_ROOMS (100) rooms; one sender per room
 *      sends BENCH_MSGS (20) messages; send-to-receive time over every receiver, p50/p99
 *
 *   node --import tsx bench/realtime.ts      (needs `ulimit -n` above BENCH_CONNS + 1000)
 */
import WebSocket from 'ws';
import { defer, runBench } from './load/lifetime.js';
import { spawnEdge } from './load/servers.js';
import { newUser, startStack } from '@parley/test-support/realtime-svc';

const N = Number(process.env['BENCH_CONNS'] ?? 10_000);
const LAT_CLIENTS = Number(process.env['BENCH_LAT_CLIENTS'] ?? 1000);
const ROOMS = Number(process.env['BENCH_ROOMS'] ?? 100);
const MSGS = Number(process.env['BENCH_MSGS'] ?? 20);
const CONCURRENCY = 100;


async function main(): Promise<void> {
  const s = await startStack(defer);
  const { port } = await spawnEdge(defer, s);
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
  const samples: number[] = [];
  const clients = await openMany(LAT_CLIENTS, (i) => url(i), tokenOf, (data) => {
    const f = JSON.parse(String(data)) as { type: string; message?: { body: string } };
    if (f.type === 'message' && f.message) samples.push(performance.timeOrigin + performance.now() - Number(f.message.body.split(' ')[1]));
  });
  const senders = clients.slice(0, ROOMS);
  const t0 = Date.now();
  for (let m = 0; m < MSGS; m++) {
    senders.forEach((ws, r) => ws.send(JSON.stringify({ type: 'send', client_msg_id: `b-${r}-${m}`, body: `t ${performance.timeOrigin + performance.now()}` })));
    await new Promise((r) => setTimeout(r, 50));
  }
  const expected = MSGS * LAT_CLIENTS;
  await waitFor(async () => samples.length >= expected, 60_000).catch(() => undefined);
  samples.sort((a, b) => a - b);
  const q = (p: number) => Math.round(samples[Math.min(samples.length - 1, Math.floor(p * samples.length))]! * 10) / 10;
  console.log(JSON.stringify({ phase: 'latency', clients: LAT_CLIENTS, rooms: ROOMS, messages: MSGS * ROOMS, deliveries: samples.length, expected, p50_ms: q(0.5), p99_ms: q(0.99), max_ms: q(1), seconds: (Date.now() - t0) / 1000 }));
  for (const ws of clients) ws.terminate();
}

async function openMany(n: number, url: (i: number) => string, token: (i: number) => string, onMessage?: (d: WebSocket.RawData) => void): Promise<WebSocket[]> {
  const out: WebSocket[] = [];
  let next = 0;
  const worker = async () => {
    while (next < n) {
      const i = next++;
      const ws = new WebSocket(url(i), ['parley.v1'], { headers: { authorization: `Bearer ${token(i)}` }, perMessageDeflate: false });
      await new Promise<void>((resolve, reject) => {
        ws.once('message', () => resolve());
        ws.once('error', reject);
      });
      if (onMessage) ws.on('message', onMessage);
      out.push(ws);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return out;
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
