/**
 * Join churn: what a join leaves behind in the edge. Starts the stack as bench/realtime.ts does
 * (user-svc, room-svc and the stand-in query service in this process, the edge as a child
 * process), fills BENCH_ROOMS (10) rooms with BENCH_HISTORY (50) messages each, in the store and
 * in the stream, so a join reads a full history page and a stream tail of the same span; then
 * runs BENCH_JOINS (3000) join+leave cycles, BENCH_CONCURRENCY (20) at a time: open, wait for
 * the history frame, close, wait for the close.
 *
 * Reported, as one JSON line: the edge's RSS and used heap before the churn (after a forced
 * collection), right after it, and after a forced collection (`/stats?gc=1`, the edge runs with
 * --expose-gc); and the garbage per join, counted inside the edge by bench/load/gc-tally.ts
 * (used heap freed by every collection in the window, which ends with a forced full one).
 * BENCH_WARMUP (200) joins run first and are not counted, so one-time costs (JIT, first
 * connections, caches) stay out of the figure. Every BENCH_CHECKPOINT (1000) joins the edge collects
 * and its RSS is noted, to tell a high-water mark from a leak.
 *
 *   node --import tsx bench/join-churn.ts
 *   BENCH_HEAP_PROFILE=/tmp/join.heapprofile node --import tsx bench/join-churn.ts
 *     (also samples where the garbage is allocated: prints the BENCH_PROFILE_TOP (40) sites)
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { defer, runBench } from './load/lifetime.js';
import { spawnEdge } from './load/servers.js';
import { Client, newUser, sendAndAck, startStack } from '@parley/test-support/realtime-svc';

const JOINS = Number(process.env['BENCH_JOINS'] ?? 3000);
const WARMUP = Number(process.env['BENCH_WARMUP'] ?? 200);
const CHECKPOINT = Number(process.env['BENCH_CHECKPOINT'] ?? 1000);
const CONCURRENCY = Number(process.env['BENCH_CONCURRENCY'] ?? 20);
const ROOMS = Number(process.env['BENCH_ROOMS'] ?? 10);
const HISTORY = Number(process.env['BENCH_HISTORY'] ?? 50);
/** Where to write the sampled heap profile of the measured joins; none when unset. */
const PROFILE = process.env['BENCH_HEAP_PROFILE'];
const TOP = Number(process.env['BENCH_PROFILE_TOP'] ?? 40);


interface Stats {
  connections: number;
  rss_bytes: number;
  heap_total_bytes: number;
  heap_used_bytes: number;
  external_bytes: number;
  collected: boolean;
}
interface Tally {
  seq: number;
  gcs: number;
  scavenges: number;
  collected_bytes: number;
}

async function main(): Promise<void> {
  const s = await startStack(defer);
  const dir = mkdtempSync(join(tmpdir(), 'join-churn-'));
  defer(() => rmSync(dir, { recursive: true, force: true }));
  const tallyFile = join(dir, 'gc-tally.json');
  if (PROFILE) rmSync(PROFILE, { force: true });
  const { port, child: edge } = await spawnEdge(defer, s, {
    nodeArgs: ['--expose-gc', '--import', './bench/load/gc-tally.ts'],
    env: { BENCH_GC_TALLY_FILE: tallyFile, ...(PROFILE ? { BENCH_HEAP_PROFILE_FILE: PROFILE } : {}) },
  });
  const stats = async (gc = false) => (await (await fetch(`http://127.0.0.1:${port}/stats${gc ? '?gc=1' : ''}`)).json()) as Stats;
  let seq = 0;
  const readTally = async (): Promise<Tally> => {
    seq += 1;
    edge.kill('SIGUSR2');
    await waitFor(async () => existsSync(tallyFile) && (JSON.parse(readFileSync(tallyFile, 'utf8')) as Tally).seq === seq, 10_000);
    return JSON.parse(readFileSync(tallyFile, 'utf8')) as Tally;
  };

  const users = await Promise.all(Array.from({ length: 10 }, () => newUser(s.users.http)));
  const owner = users[0]!;
  const rooms: string[] = [];
  for (let i = 0; i < ROOMS; i++) rooms.push(await s.newRoom(owner, users.slice(1)));
  for (const room of rooms) {
    const sender = await Client.open(`ws://127.0.0.1:${port}/v1/rooms/${room}/ws`, owner.token);
    for (let m = 0; m < HISTORY; m++) await sendAndAck(sender, `h-${m}`, `history message ${m} of room ${room.slice(0, 8)}: a sentence of ordinary length`);
    sender.close();
    s.fake!.store(await s.streamed(room));
  }
  await waitFor(async () => (await stats()).connections === 0);
  const idle = await stats(true);

  const cycle = (i: number) => joinAndLeave(`ws://127.0.0.1:${port}/v1/rooms/${rooms[i % ROOMS]}/ws`, users[i % users.length]!.token);
  await runMany(WARMUP, cycle);
  await waitFor(async () => (await stats()).connections === 0);
  const before = await stats(true);
  const anonBefore = rssAnon(edge.pid!);
  const tally0 = await readTally();
  const t0 = Date.now();
  // Checkpoints (a forced collection after every CHECKPOINT joins) tell a high-water mark,
  // which stops rising, from a leak, which does not.
  const checkpoints: number[] = [];
  for (let done = 0; done < JOINS; done += CHECKPOINT) {
    const n = Math.min(CHECKPOINT, JOINS - done);
    await runMany(n, (i) => cycle(done + i));
    if (done + n >= JOINS) break;
    await waitFor(async () => (await stats()).connections === 0);
    checkpoints.push(mb((await stats(true)).rss_bytes));
  }
  const seconds = (Date.now() - t0) / 1000;
  await waitFor(async () => (await stats()).connections === 0);
  const after = await stats();
  const afterGc = await stats(true);
  const tally1 = await readTally();
  const garbage = tally1.collected_bytes - tally0.collected_bytes;

  console.log(
    JSON.stringify({
      phase: 'join-churn',
      joins: JOINS,
      concurrency: CONCURRENCY,
      rooms: ROOMS,
      history: HISTORY,
      seconds,
      joins_per_second: Math.round(JOINS / seconds),
      rss_idle_mb: mb(idle.rss_bytes),
      rss_before_mb: mb(before.rss_bytes),
      rss_after_mb: mb(after.rss_bytes),
      rss_after_gc_mb: mb(afterGc.rss_bytes),
      rss_anon_before_mb: mb(anonBefore),
      rss_anon_after_gc_mb: mb(rssAnon(edge.pid!)),
      rss_after_gc_mb_by_checkpoint: [...checkpoints, mb(afterGc.rss_bytes)],
      heap_before_mb: mb(before.heap_used_bytes),
      heap_after_mb: mb(after.heap_used_bytes),
      heap_after_gc_mb: mb(afterGc.heap_used_bytes),
      heap_total_before_mb: mb(before.heap_total_bytes),
      heap_total_after_gc_mb: mb(afterGc.heap_total_bytes),
      external_before_mb: mb(before.external_bytes),
      external_after_gc_mb: mb(afterGc.external_bytes),
      gcs: tally1.gcs - tally0.gcs,
      scavenges: tally1.scavenges - tally0.scavenges,
      garbage_bytes_per_join: Math.round(garbage / JOINS),
      retained_bytes_per_join: Math.round((afterGc.heap_used_bytes - before.heap_used_bytes) / JOINS),
    }),
  );

  if (PROFILE) {
    await waitFor(async () => existsSync(PROFILE), 30_000);
    printProfile(JSON.parse(readFileSync(PROFILE, 'utf8')) as { head: ProfileNode }, JOINS);
  }
}

async function joinAndLeave(url: string, token: string): Promise<void> {
  const ws = new WebSocket(url, ['parley.v1'], { headers: { authorization: `Bearer ${token}` }, perMessageDeflate: false });
  await new Promise<void>((resolve, reject) => {
    ws.once('message', (data) => {
      const type = (JSON.parse(String(data)) as { type: string }).type;
      if (type === 'history') resolve();
      else reject(new Error(`first frame was ${type}, not history`));
    });
    ws.once('error', reject);
  });
  await new Promise<void>((resolve) => {
    ws.once('close', () => resolve());
    ws.close();
  });
}

async function runMany(n: number, fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < n) await fn(next++);
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
}

interface ProfileNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: ProfileNode[];
}

/** Sampled bytes per join by allocation site, and by package (or source file) of that site. */
function printProfile(profile: { head: ProfileNode }, joins: number): void {
  const sites = new Map<string, number>();
  const modules = new Map<string, number>();
  // A builtin (JSON.parse, a Buffer copy) has no url: its bytes go to the nearest caller that has one.
  const walk = (n: ProfileNode, parents: string[], owner: string) => {
    const f = n.callFrame;
    const here = `${f.functionName || '(anonymous)'} ${short(f.url)}:${f.lineNumber + 1}`;
    const stack = [here, ...parents].slice(0, 4);
    const mod = moduleOf(f.url) ?? owner;
    if (n.selfSize > 0) {
      const key = stack.join(' < ');
      sites.set(key, (sites.get(key) ?? 0) + n.selfSize);
      modules.set(mod, (modules.get(mod) ?? 0) + n.selfSize);
    }
    for (const c of n.children) walk(c, stack, mod);
  };
  walk(profile.head, [], '(native)');
  const top = (m: Map<string, number>, k: number) => [...m].sort((a, b) => b[1] - a[1]).slice(0, k);
  const total = [...sites.values()].reduce((a, b) => a + b, 0);
  console.error(`\nsampled allocation, bytes per join (total ${Math.round(total / joins)}), by package:`);
  for (const [mod, bytes] of top(modules, 20)) console.error(`${String(Math.round(bytes / joins)).padStart(8)}  ${mod}`);
  console.error('\nby allocation site (site < caller < …):');
  for (const [site, bytes] of top(sites, TOP)) console.error(`${String(Math.round(bytes / joins)).padStart(8)}  ${site}`);
}

function short(url: string): string {
  const i = url.lastIndexOf('node_modules/');
  if (i >= 0) return url.slice(i + 'node_modules/'.length);
  return url.replace(/^file:\/\/.*?\/(cmd|packages)\//, '$1/');
}

function moduleOf(url: string): string | undefined {
  if (!url) return undefined;
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return nm[1];
  if (url.startsWith('node:')) return url;
  const own = /(cmd|packages)\/[^:]+/.exec(url);
  return own ? own[0] : url;
}

async function waitFor(fn: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Anonymous resident memory (heap, malloc, buffers), without the mapped code and libraries. */
function rssAnon(pid: number): number {
  const m = /RssAnon:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : Number.NaN;
}

const mb = (b: number) => Math.round(b / 1024 / 102.4) / 10;

await runBench(main);
