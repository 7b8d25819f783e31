/**
 * Raw NATS, no edge: what following N rooms costs one edge connection, per fanout design
 * (bench/load/fanout-designs.ts). For each design and each N of BENCH_PROBE_ROOMS (default
 * 1000,10000,100000), on a fresh stream and subject prefix and fresh connections:
 *
 *   1. create:  every room's subscription (consumers: 100 in flight), bounded by
 *               BENCH_PROBE_CREATE_S (60 s); the time, NATS server and client RSS growth
 *   2. idle:    BENCH_PROBE_IDLE_S (5 s) with no traffic: NATS server and client CPU
 *   3. publish: BENCH_PROBE_RATE (2000) msgs/s spread round-robin over all N rooms for
 *               BENCH_PROBE_SECONDS (10 s), core publishes on a second connection into the
 *               stream: NATS server and client CPU (the client process publishes too: the
 *               stream-only row is that baseline), delivered/expected, publish→receive p50/p99
 *
 * A design stopped by the deadline or an error at one N reports the step that stopped it and
 * is not tried at larger N. Streams (and with them the consumers) are deleted after each run.
 *
 *   node --import tsx bench/nats-fanout-probe.ts
 */
import { connect, type NatsConnection } from 'nats';
import { pathToFileURL } from 'node:url';
import { natsUrlOptions } from '@parley/clients';
import { infra, uniqueName } from '@parley/test-support';
import { Histogram } from './load/histogram.js';
import { cpuSeconds, rssBytes } from './load/proc-stats.js';
import { natsServerPid } from './load/nats-server.js';
import { DESIGNS, createStream, roomSubject, setUpDesign, usesRepublish, type DesignKey, type DesignNames } from './load/fanout-designs.js';

export interface ProbeOptions {
  rooms: number[];
  designs: DesignKey[];
  ratePerS: number;
  publishSeconds: number;
  idleSeconds: number;
  createDeadlineS: number;
  /** No new run starts after this (ms since the epoch). */
  until: number;
}

export interface ProbeRow {
  design: DesignKey;
  rooms: number;
  created: number;
  stopped_by?: string;
  create_s: number;
  /** A lower bound when an earlier run freed heap the server reuses (DESIGNS). */
  nats_rss_growth_mb: number;
  nats_rss_mb: number;
  client_rss_growth_mb: number;
  idle_nats_cpu_pct?: number;
  idle_client_cpu_pct?: number;
  nats_cpu_pct?: number;
  client_cpu_pct?: number;
  /** Wall time of the publishing window: longer than asked when the server read the publishes slower than they were made. */
  publish_s?: number;
  delivered?: number;
  expected?: number;
  p50_ms?: number;
  p99_ms?: number;
}

export function probeOptionsFromEnv(env = process.env): ProbeOptions {
  const num = (k: string, d: number) => Number(env[k] ?? d);
  return {
    rooms: (env['BENCH_PROBE_ROOMS'] ?? '1000,10000,100000').split(',').map(Number),
    designs: (env['BENCH_PROBE_DESIGNS']?.split(',') as DesignKey[] | undefined) ?? DESIGNS,
    ratePerS: num('BENCH_PROBE_RATE', 2000),
    publishSeconds: num('BENCH_PROBE_SECONDS', 10),
    idleSeconds: num('BENCH_PROBE_IDLE_S', 5),
    createDeadlineS: num('BENCH_PROBE_CREATE_S', 60),
    until: Date.now() + num('BENCH_PROBE_TOTAL_S', 900) * 1000,
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const mb = (b: number) => Math.round(b / 1024 / 102.4) / 10;
const pct = (cpuS: number, wallS: number) => Math.round((cpuS / wallS) * 1000) / 10;
const round1 = (x: number) => Math.round(x * 10) / 10;
const selfCpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
const now = () => performance.timeOrigin + performance.now();

/** Every design at every size, smallest first; a design that stopped is not tried larger. */
export async function runFanoutProbe(o: ProbeOptions, log: (row: ProbeRow) => void = () => undefined): Promise<ProbeRow[]> {
  const natsPid = natsServerPid();
  if (natsPid === undefined) throw new Error('no nats-server found listening on the project NATS port');
  const rows: ProbeRow[] = [];
  const stopped = new Set<DesignKey>();
  // Designs outer, in DESIGNS order, sizes ascending inner: see DESIGNS on why.
  for (const d of DESIGNS.filter((x) => o.designs.includes(x))) {
    for (const n of [...o.rooms].sort((a, b) => a - b)) {
      if (stopped.has(d) || Date.now() > o.until) continue;
      const row = await runOne(d, n, o, natsPid);
      rows.push(row);
      log(row);
      if (row.stopped_by) stopped.add(d);
    }
  }
  return rows;
}

async function runOne(d: DesignKey, n: number, o: ProbeOptions, natsPid: number): Promise<ProbeRow> {
  const names: DesignNames = { stream: uniqueName('PROBE'), prefix: uniqueName('probe') };
  const admin = await connect({ ...natsUrlOptions(infra.natsUrl), name: 'fanout-probe-admin' });
  const jsm = await admin.jetstreamManager();
  await createStream(jsm, names, usesRepublish(d));
  let edge: NatsConnection | undefined;
  let pub: NatsConnection | undefined;
  try {
    edge = await connect({ ...natsUrlOptions(infra.natsUrl), name: 'fanout-probe-edge', maxPingOut: 10 });
    pub = await connect({ ...natsUrlOptions(infra.natsUrl), name: 'fanout-probe-pub' });
    const hist = new Histogram();
    let delivered = 0;
    let measuring = false;
    const onMessage = (_room: number, data: Uint8Array) => {
      if (!measuring || data.byteLength < 8) return;
      delivered += 1;
      hist.record(now() - new DataView(data.buffer, data.byteOffset, 8).getFloat64(0));
    };

    await sleep(500);
    const natsRss0 = rssBytes(natsPid);
    const clientRss0 = process.memoryUsage().rss;
    const t0 = performance.now();
    const made = await setUpDesign(d, edge, edge.jetstream(), names, n, Date.now() + o.createDeadlineS * 1000, onMessage);
    const createS = (performance.now() - t0) / 1000;
    await sleep(1000);
    const base: ProbeRow = {
      design: d,
      rooms: n,
      created: made.created,
      ...(made.stoppedBy ? { stopped_by: made.stoppedBy } : {}),
      create_s: Math.round(createS * 100) / 100,
      nats_rss_growth_mb: mb(rssBytes(natsPid) - natsRss0),
      nats_rss_mb: mb(rssBytes(natsPid)),
      client_rss_growth_mb: mb(process.memoryUsage().rss - clientRss0),
    };
    if (made.stoppedBy) {
      await made.close();
      return base;
    }

    const idle = await cpuOver(natsPid, () => sleep(o.idleSeconds * 1000));
    measuring = true;
    const busy = await cpuOver(natsPid, () => publishSteady(pub!, names, n, o.ratePerS, o.publishSeconds));
    const expected = d === 'stream-only' ? 0 : busy.result;
    const waitUntil = Date.now() + 5000;
    while (delivered < expected && Date.now() < waitUntil) await sleep(100);
    measuring = false;
    await made.close();
    return {
      ...base,
      idle_nats_cpu_pct: idle.natsPct,
      idle_client_cpu_pct: idle.clientPct,
      nats_cpu_pct: busy.natsPct,
      client_cpu_pct: busy.clientPct,
      publish_s: busy.wallS,
      delivered,
      expected,
      ...(hist.count > 0 ? { p50_ms: round1(hist.percentile(0.5)), p99_ms: round1(hist.percentile(0.99)) } : {}),
    };
  } finally {
    // Connections first (the consumers' pulls end with them), then the stream and whatever
    // consumers the server still holds on it.
    await edge?.close().catch(() => undefined);
    await pub?.close().catch(() => undefined);
    await jsm.streams.delete(names.stream).catch(() => undefined);
    await admin.close();
  }
}

async function cpuOver<T>(natsPid: number, fn: () => Promise<T>): Promise<{ result: T; wallS: number; natsPct: number; clientPct: number }> {
  const t0 = performance.now();
  const [n0, c0] = [cpuSeconds(natsPid), selfCpu()];
  const result = await fn();
  const wall = (performance.now() - t0) / 1000;
  return { result, wallS: Math.round(wall * 10) / 10, natsPct: pct(cpuSeconds(natsPid) - n0, wall), clientPct: pct(selfCpu() - c0, wall) };
}

/** `rate` msgs/s round-robin over `n` rooms, a batch every 10 ms; each payload opens with its send time. Returns how many. */
async function publishSteady(pub: NatsConnection, names: DesignNames, n: number, rate: number, seconds: number): Promise<number> {
  const tick = 10;
  const ticks = (seconds * 1000) / tick;
  const start = performance.now();
  let sent = 0;
  for (let t = 0; t < ticks; t++) {
    const due = Math.round(((t + 1) * tick * rate) / 1000);
    for (; sent < due; sent++) {
      const payload = new Uint8Array(64);
      new DataView(payload.buffer).setFloat64(0, now());
      pub.publish(roomSubject(names, sent % n), payload);
    }
    await sleep(Math.max(0, start + (t + 1) * tick - performance.now()));
  }
  await pub.flush();
  return sent;
}

/** One line per design and size, for the console and docs/scaling.md. */
export function probeTable(rows: ProbeRow[]): string {
  const out = [
    '| design | rooms | create | NATS RSS + (after) | client RSS + | idle CPU NATS / client | CPU NATS / client while publishing (publish wall time) | delivered / expected | p50 / p99 ms |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    const create = r.stopped_by ? `${r.created} in ${r.create_s} s, stopped: ${r.stopped_by}` : `${r.create_s} s`;
    const idle = r.idle_nats_cpu_pct === undefined ? '-' : `${r.idle_nats_cpu_pct} % / ${r.idle_client_cpu_pct} %`;
    const busy = r.nats_cpu_pct === undefined ? '-' : `${r.nats_cpu_pct} % / ${r.client_cpu_pct} % (${r.publish_s} s)`;
    const del = r.expected === undefined ? '-' : `${r.delivered} / ${r.expected}`;
    const lat = r.p50_ms === undefined ? '-' : `${r.p50_ms} / ${r.p99_ms}`;
    out.push(`| ${r.design} | ${r.rooms} | ${create} | ${r.nats_rss_growth_mb} MB (${r.nats_rss_mb}) | ${r.client_rss_growth_mb} MB | ${idle} | ${busy} | ${del} | ${lat} |`);
  }
  return out.join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const o = probeOptionsFromEnv();
  console.log(JSON.stringify({ phase: 'probe-options', ...o, until: undefined }));
  const rows = await runFanoutProbe(o, (row) => console.log(JSON.stringify({ phase: 'probe', ...row })));
  console.log(`\nfanout designs on one connection (${o.ratePerS} msgs/s over all rooms for ${o.publishSeconds} s):`);
  console.log(probeTable(rows));
  process.exit(0);
}
