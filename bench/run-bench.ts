/**
 * `make bench`: the realtime fanout comparison (Parley's edge, Socket.io + Redis adapter, bare
 * uWebSockets.js) under one load generator and one workload, then the other bench scripts;
 * writes docs/benchmarks.md. Bounded: every phase has a count and a deadline, only 127.0.0.1.
 *
 *   node --import tsx bench/run-bench.ts
 *   BENCH_TARGETS=parley,parley2,socketio,uws BENCH_CLIENTS=1000 BENCH_ROOMS=100 BENCH_RATE=1000
 *   BENCH_SECONDS=15 BENCH_IDLE_CONNS=10000 BENCH_SAT_SECONDS=5 BENCH_SAT_MAX=32000 BENCH_SAT_FACTOR=1.5
 *   BENCH_WORKERS=2 BENCH_OTHERS=realtime,query,pipeline,join-churn,join-cost,rooms,connections (none: only the comparison)
 *   BENCH_OUT=docs/benchmarks.md
 */
import { execFileSync } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { LoadGenerator, type MergedRun } from './load/generator.js';
import { generatorBound, keptUp, saturationRates } from './load/plan.js';
import { ProcWatch, loadAverage, pidOf, rssBytes } from './load/proc-stats.js';
import { natsServerPid } from './load/nats-server.js';
import { analysis } from './load/analysis.js';
import { runOthers } from './load/others.js';
import { pcts, renderReport, type StepResult, type TargetResult } from './load/report.js';
import { startParley, startSocketIo, startUwsBare, type ServerUnderTest } from './load/servers.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const num = (k: string, d: number) => Number(process.env[k] ?? d);
const list = (k: string, d: string) => (process.env[k] ?? d).split(',').map((s) => s.trim()).filter(Boolean);
const W = {
  clients: num('BENCH_CLIENTS', 1000),
  rooms: num('BENCH_ROOMS', 100),
  rate: num('BENCH_RATE', 1000),
  seconds: num('BENCH_SECONDS', 15),
  bodyBytes: num('BENCH_BODY_BYTES', 100),
  idleConns: num('BENCH_IDLE_CONNS', 10_000),
  workers: num('BENCH_WORKERS', 2),
  satSeconds: num('BENCH_SAT_SECONDS', 5),
  satMax: num('BENCH_SAT_MAX', 32_000),
  satFactor: num('BENCH_SAT_FACTOR', 1.5),
};
const TARGETS = list('BENCH_TARGETS', 'parley,parley2,socketio,uws');
const OTHERS = list('BENCH_OTHERS', 'realtime,query,pipeline,join-churn,join-cost,rooms,connections');
const OUT = process.env['BENCH_OUT'] ?? 'docs/benchmarks.md';
const GRACE_MS = 5000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (o: Record<string, unknown>) => console.log(JSON.stringify(o));

const cleanups: Array<() => unknown> = [];
const defer = (fn: () => unknown) => void cleanups.push(fn);

async function step(gen: LoadGenerator, s: ServerUnderTest, rate: number, seconds: number): Promise<StepResult> {
  // The project's NATS (found by its port: the machine may run another nats-server), or Redis.
  const brokerPid = s.broker.startsWith('NATS') ? natsServerPid() : s.broker.startsWith('Redis') ? pidOf('redis-server') : undefined;
  const k = s.pids.length;
  const pids = [...s.pids, brokerPid ?? -1, ...gen.pids];
  const watch = new ProcWatch(pids);
  let usage: ReturnType<ProcWatch['stop']> | undefined;
  // CPU is read over the send window only; the grace period after it would dilute it.
  const window = sleep(seconds * 1000).then(() => (usage = watch.stop()));
  const r: MergedRun = await gen.run(rate, seconds, GRACE_MS, W.bodyBytes);
  await window;
  const u = usage!;
  const lat = pcts(r.latency);
  const out = {
    rate,
    seconds,
    sentPerS: r.sent / r.sendSeconds,
    deliveredPerS: r.deliveredInWindow / seconds,
    delivered: r.delivered,
    expected: r.expected,
    ...lat,
    ackP50: r.ack.percentile(0.5),
    ackP99: r.ack.percentile(0.99),
    errors: r.errors,
    closed: r.closedDuringRun,
    serverCpuPct: u.slice(0, k).reduce((a, b) => a + b.cpuPct, 0),
    serverPeakRss: u.slice(0, k).reduce((a, b) => a + b.peakRss, 0),
    brokerCpuPct: brokerPid ? u[k]!.cpuPct : Number.NaN,
    generatorCpuPct: u.slice(k + 1).reduce((a, b) => a + b.cpuPct, 0),
  };
  const o = { targetRate: rate, sentRate: rate === 0 ? 0 : r.sent / seconds, expected: r.expected, delivered: r.delivered, p99Ms: lat.p99 };
  const res: StepResult = { ...out, keptUp: keptUp(o), generatorBound: generatorBound(o) };
  log({ phase: 'step', target: s.name, ...res, errors: JSON.stringify(res.errors) });
  return res;
}

async function measure(gen: LoadGenerator, s: ServerUnderTest): Promise<TargetResult> {
  const loadBefore = loadAverage();
  await sleep(2000);
  const rss = () => s.pids.reduce((a, p) => a + rssBytes(p), 0);
  const rssBefore = rss();
  const idle = await gen.connect(s.target, s.roomIds, W.idleConns, s.tokenOf, 100);
  if (idle.firstError) log({ phase: 'idle', target: s.name, firstError: idle.firstError });
  await sleep(3000);
  const rssAfter = rss();
  const bytesPerConn = (rssAfter - rssBefore) / Math.max(1, idle.connected);
  log({ phase: 'idle', target: s.name, connected: idle.connected, failed: idle.failed, rssBefore, rssAfter, bytesPerConn });
  await gen.closeAll();
  await sleep(2000);

  const conn = await gen.connect(s.target, s.roomIds, W.clients, s.tokenOf, 100);
  if (conn.connected < W.clients) throw new Error(`${s.name}: only ${conn.connected}/${W.clients} clients joined (${conn.firstError ?? 'no error'})`);
  // A short run first, discarded: JIT, connection pools and the stream's first writes warm up.
  await gen.run(W.rate, 2, GRACE_MS, W.bodyBytes);
  const steady = await step(gen, s, W.rate, W.seconds);
  const ladder: StepResult[] = [];
  // On a shared machine a step can fall behind from a neighbour's burst alone, so the ladder
  // goes on while throughput still grows and stops once it has plateaued behind.
  let prev = steady.deliveredPerS;
  for (const rate of saturationRates(W.rate * W.satFactor, W.satMax, W.satFactor)) {
    const r = await step(gen, s, rate, W.satSeconds);
    ladder.push(r);
    if (r.generatorBound || (!r.keptUp && r.deliveredPerS < 1.1 * prev)) break;
    prev = Math.max(prev, r.deliveredPerS);
  }
  await gen.closeAll();
  return { name: s.name, broker: s.broker, idle: { connections: idle.connected, failed: idle.failed, rssBefore, rssAfter, bytesPerConn }, steady, ladder, loadBefore, loadAfter: loadAverage() };
}

async function main(): Promise<void> {
  const t0 = Date.now();
  const loadBefore = loadAverage();
  const gen = new LoadGenerator(W.workers);
  defer(() => gen.stop());
  const results: TargetResult[] = [];
  const starters: Record<string, () => Promise<ServerUnderTest>> = {
    parley: () => startParley(defer, W.rooms, 10),
    parley2: () => startParley(defer, W.rooms, 10, 2),
    socketio: () => startSocketIo(W.rooms),
    uws: () => startUwsBare(W.rooms),
  };
  for (const name of TARGETS) {
    const start = starters[name];
    if (!start) throw new Error(`unknown target ${name} (parley, parley2, socketio, uws)`);
    const s = await start();
    try {
      results.push(await measure(gen, s));
    } finally {
      await s.stop();
    }
  }
  gen.stop();
  const others = await runOthers(OTHERS.filter((n) => n !== 'none'), ROOT);
  const loadAfter = loadAverage();
  const doc = renderReport(
    {
      date: new Date().toISOString(),
      command: process.env['BENCH_COMMAND'] ?? 'node --import tsx bench/run-bench.ts',
      nproc: Number(execFileSync('nproc').toString().trim()),
      memGiB: totalmem() / 2 ** 30,
      node: process.version,
      cpuModel: cpus()[0]?.model ?? 'unknown CPU',
      workload: W,
      loadBefore,
      loadAfter,
      durationS: (Date.now() - t0) / 1000,
    },
    results,
    analysis(results),
    others,
  );
  writeFileSync(new URL(OUT, `file://${ROOT}`), doc);
  log({ phase: 'done', out: OUT, seconds: Math.round((Date.now() - t0) / 1000) });
}

try {
  await main();
} finally {
  while (cleanups.length > 0) await Promise.resolve(cleanups.pop()!()).catch(() => undefined);
}
process.exit(0);
