/**
 * Turns the measurements into docs/benchmarks.md: one comparison table, the saturation ladder of
 * each server, the goals with a verdict each, and the output of the other bench scripts.
 */
import type { Histogram } from './histogram.js';

export interface StepResult {
  rate: number;
  seconds: number;
  sentPerS: number;
  deliveredPerS: number;
  delivered: number;
  expected: number;
  p50: number;
  p99: number;
  p999: number;
  max: number;
  ackP50: number;
  ackP99: number;
  errors: Record<string, number>;
  closed: number;
  serverCpuPct: number;
  serverPeakRss: number;
  brokerCpuPct: number;
  generatorCpuPct: number;
  keptUp: boolean;
  generatorBound: boolean;
}

export interface TargetResult {
  name: string;
  broker: string;
  idle: { connections: number; failed: number; rssBefore: number; rssAfter: number; bytesPerConn: number };
  steady: StepResult;
  ladder: StepResult[];
  loadBefore: number[];
  loadAfter: number[];
}

export interface RunInfo {
  date: string;
  command: string;
  nproc: number;
  memGiB: number;
  node: string;
  cpuModel: string;
  workload: { clients: number; rooms: number; rate: number; seconds: number; bodyBytes: number; idleConns: number; workers: number; satSeconds: number; satMax: number; satFactor: number };
  loadBefore: number[];
  loadAfter: number[];
  durationS: number;
}

export function pcts(h: Histogram): { p50: number; p99: number; p999: number; max: number } {
  return { p50: h.percentile(0.5), p99: h.percentile(0.99), p999: h.percentile(0.999), max: h.maxMs };
}

const ms = (v: number) => (Number.isFinite(v) ? (v < 10 ? v.toFixed(2) : v < 100 ? v.toFixed(1) : v.toFixed(0)) : '–');
const mb = (b: number) => (Number.isFinite(b) ? `${(b / 1048576).toFixed(0)} MB` : '–');
const kb = (b: number) => (Number.isFinite(b) ? `${(b / 1024).toFixed(1)} KB` : '–');
const int = (v: number) => (Number.isFinite(v) ? Math.round(v).toLocaleString('en-US') : '–');
const pct = (v: number) => (Number.isFinite(v) ? `${v.toFixed(0)} %` : '–');
const la = (l: number[]) => l.map((x) => x.toFixed(2)).join(' / ');

/** The highest step that kept up, else (nothing kept up) the peak. */
export function sustained(t: TargetResult): StepResult {
  const ok = [t.steady, ...t.ladder].filter((s) => s.keptUp);
  return ok.length ? ok.reduce((a, b) => (b.deliveredPerS > a.deliveredPerS ? b : a)) : peak(t);
}

export function peak(t: TargetResult): StepResult {
  return [t.steady, ...t.ladder].reduce((a, b) => (b.deliveredPerS > a.deliveredPerS ? b : a));
}

function comparison(ts: TargetResult[], info: RunInfo): string[] {
  const row = (label: string, f: (t: TargetResult) => string) => `| ${label} | ${ts.map(f).join(' | ')} |`;
  const w = info.workload;
  return [
    `| measure | ${ts.map((t) => `${t.name} (${t.broker})`).join(' | ')} |`,
    `|---|${ts.map(() => '---').join('|')}|`,
    row(`delivered msgs/s at ${int(w.rate)} sends/s (target ${int(w.rate * (w.clients / w.rooms))})`, (t) => int(t.steady.deliveredPerS)),
    row('send → receive p50 / p99 / p99.9 (ms)', (t) => `${ms(t.steady.p50)} / **${ms(t.steady.p99)}** / ${ms(t.steady.p999)}`),
    row('send → ack p50 / p99 (ms)', (t) => `${ms(t.steady.ackP50)} / ${ms(t.steady.ackP99)}`),
    row('delivered / expected', (t) => `${int(t.steady.delivered)} / ${int(t.steady.expected)}`),
    row('server CPU (100 % = one core)', (t) => pct(t.steady.serverCpuPct)),
    row('server peak RSS under load', (t) => mb(t.steady.serverPeakRss)),
    row('broker CPU (shared with other users)', (t) => (t.broker === 'none' ? '–' : pct(t.steady.brokerCpuPct))),
    row('load generator CPU (all workers)', (t) => pct(t.steady.generatorCpuPct)),
    row(`memory per idle connection (${int(w.idleConns)} idle)`, (t) => `**${kb(t.idle.bytesPerConn)}** (${mb(t.idle.rssBefore)} → ${mb(t.idle.rssAfter)}${t.idle.failed ? `, ${t.idle.failed} failed` : ''})`),
    row('saturation: highest delivered msgs/s that kept up', (t) => `**${int(sustained(t).deliveredPerS)}** (at ${int(sustained(t).rate)} sends/s, p99 ${ms(sustained(t).p99)} ms${sustained(t).keptUp ? '' : '; no step kept up: peak'})`),
    row('saturation: peak delivered msgs/s seen', (t) => `${int(peak(t).deliveredPerS)} (at ${int(peak(t).rate)} sends/s${peak(t).generatorBound ? ', generator-bound' : ''})`),
  ];
}

function ladder(t: TargetResult): string[] {
  const lines = [
    `**${t.name}**`,
    '',
    '| sends/s asked | sent/s | delivered/s | delivered / expected | p50 ms | p99 ms | p99.9 ms | server CPU | broker CPU | generator CPU | errors / closes | verdict |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const s of [t.steady, ...t.ladder]) {
    const errs = Object.entries(s.errors).map(([k, v]) => `${k} ${v}`).join(', ');
    const verdict = s.generatorBound ? 'generator-bound' : s.keptUp ? 'kept up' : 'fell behind';
    lines.push(`| ${int(s.rate)} | ${int(s.sentPerS)} | ${int(s.deliveredPerS)} | ${(s.expected ? (100 * s.delivered) / s.expected : 0).toFixed(1)} % | ${ms(s.p50)} | ${ms(s.p99)} | ${ms(s.p999)} | ${pct(s.serverCpuPct)} | ${t.broker === 'none' ? '–' : pct(s.brokerCpuPct)} | ${pct(s.generatorCpuPct)} | ${errs || '–'}${s.closed ? ` / ${s.closed} closed` : ''} | ${verdict} |`);
  }
  lines.push('', `Load average before / after: ${la(t.loadBefore)} → ${la(t.loadAfter)}`, '');
  return lines;
}

/** A goal's row as a bench script prints it (`{"phase":"goal",...}` on its own line). */
export interface GoalLine {
  goal: number;
  title: string;
  measured: string;
  met: boolean;
  why: string;
}

/** The goal rows in the other scripts' output; a script that printed none leaves its goal open. */
export function goalLines(others: Array<{ output: string }>): GoalLine[] {
  const out: GoalLine[] = [];
  for (const o of others) {
    for (const line of o.output.split('\n')) {
      if (!line.startsWith('{"phase":"goal"')) continue;
      try {
        out.push(JSON.parse(line) as GoalLine);
      } catch {
        // a truncated line (the script was stopped while printing): no row from it
      }
    }
  }
  return out;
}

const GOAL_TITLES: Record<number, { title: string; script: string }> = {
  1: { title: 'Tail latency: p99 send → receive at 1,000 sends/s ≤ Socket.io\'s, every message stored before its ack', script: 'the comparison above' },
  2: { title: 'Throughput: highest delivered msgs/s that kept up ≥ 2× Socket.io and ≥ 0.5× bare uWS', script: 'the comparison above' },
  3: { title: 'Rooms per edge: 10,000 active (100,000 idle), rooms of 5,000', script: 'bench/rooms.ts' },
  4: { title: 'Connections per edge: 100,000 idle at ≤ 4 KB each', script: 'bench/connections.ts' },
  5: { title: 'Join cost: fewer calls per join, promise 8 kept', script: 'bench/join-cost.ts' },
  6: { title: 'Reads: gRPC latest-50 p99 ≤ 5 ms, REST search p99 ≤ 50 ms at 16 in flight', script: 'bench/query.ts' },
  7: { title: 'Write path: ≥ 80 % of the slower store\'s own rate, search freshness p99 ≤ 1 s', script: 'bench/pipeline.ts' },
};

/** One row per goal of the scale issue, each with its peer or ceiling from this run. */
function goals(ts: TargetResult[], lines: GoalLine[]): string[] {
  const by = (k: string) => ts.find((t) => t.name.toLowerCase().includes(k));
  const p = by('parley');
  const sio = by('socket');
  const uws = by('uwebsockets');
  const rows = new Map<number, { measured: string; verdict: string; why: string }>();
  const verdict = (ok: boolean) => (ok ? 'met' : '**not met**');
  if (p && sio) {
    const [pp, sp] = [p.steady.p99, sio.steady.p99];
    rows.set(1, {
      measured: `Parley ${ms(pp)} ms vs Socket.io ${ms(sp)} ms${uws ? ` (bare uWS ${ms(uws.steady.p99)} ms)` : ''}; Parley acked after the JetStream PubAck, generator CPU ${pct(p.steady.generatorCpuPct)} / ${pct(sio.steady.generatorCpuPct)}`,
      verdict: verdict(pp <= sp && p.steady.keptUp),
      why: pp <= sp ? 'the stored message reaches the edge as a core NATS publish of the stream (no consumer in between)' : 'each send crosses more processes (edge → Redis → NATS store → edge) on two shared cores: see "Where Parley falls short"',
    });
    // The best of Parley's runs (one edge process, or several sharing the port).
    const best = ts.filter((t) => t.name.toLowerCase().includes('parley')).sort((a, b) => sustained(b).deliveredPerS - sustained(a).deliveredPerS)[0]!;
    const [pf, sf] = [sustained(best).deliveredPerS, sustained(sio).deliveredPerS];
    const uf = uws ? sustained(uws).deliveredPerS : Number.NaN;
    const ok = sustained(best).keptUp && pf >= 2 * sf && (!uws || pf >= uf / 2);
    rows.set(2, {
      measured: `${best.name}: ${int(pf)} msgs/s = ${(pf / sf).toFixed(2)}× Socket.io (${int(sf)})${uws ? `, ${(pf / uf).toFixed(2)}× bare uWS (${int(uf)})` : ''}, server CPU ${pct(sustained(best).serverCpuPct)}, generator ${pct(sustained(best).generatorCpuPct)}`,
      verdict: verdict(ok),
      why: ok ? 'fanout is one uWS publish per message per edge' : 'the edge\'s CPU per send (validation, Redis rate limits, JetStream publish and PubAck) bounds it, on a core shared with the generator and the stores',
    });
  }
  for (const g of lines) rows.set(g.goal, { measured: g.measured, verdict: verdict(g.met), why: g.why });
  const out = ['| goal | measured (with its peer or ceiling, this run) | verdict | why |', '|---|---|---|---|'];
  for (const [n, { title, script }] of Object.entries(GOAL_TITLES)) {
    const r = rows.get(Number(n));
    out.push(r ? `| ${n}. ${title} | ${r.measured} | ${r.verdict} | ${r.why} |` : `| ${n}. ${title} | not measured in this run (${script} did not report) | **open** | see its output below |`);
  }
  return out;
}

export function renderReport(info: RunInfo, ts: TargetResult[], analysis: string[], others: Array<{ name: string; command: string; seconds: number; status: string; output: string }>): string {
  const w = info.workload;
  return [
    '# Benchmarks',
    '',
    `Generated by \`${info.command}\` (\`bench/run-bench.ts\`) on ${info.date}, in ${Math.round(info.durationS)} s. Do not edit by hand: run it again.`,
    '',
    `Machine: ${info.nproc} cores (${info.cpuModel}), ${info.memGiB.toFixed(0)} GiB memory, Node ${info.node}. ` +
      `The two cores are shared by the load generator, the server under test, NATS, Redis, PostgreSQL, Kafka, Cassandra, Elasticsearch and whatever else runs on the machine. ` +
      `Load average (1/5/15 min) at the start: ${la(info.loadBefore)}; at the end: ${la(info.loadAfter)}.`,
    '',
    '## Realtime fanout, side by side',
    '',
    `Workload, identical for each server: ${int(w.clients)} WebSocket clients in ${int(w.rooms)} rooms (${w.clients / w.rooms} per room, client i in room i mod ${w.rooms}), ` +
      `${int(w.rate)} sends/s in aggregate for ${w.seconds} s, round-robin over all clients, ${w.bodyBytes}-byte bodies. Every send is delivered to every member of its room, ` +
      `the sender included, so the target is ${int(w.rate * (w.clients / w.rooms))} delivered msgs/s. The generator runs in ${w.workers} forked worker processes; ` +
      'each holds whole rooms, so a message\'s sender and its receivers share one process and one monotonic clock: the sender writes `performance.now()` into the body and each receiver subtracts it from its own. ' +
      `Saturation: the rate grows ${w.satFactor}× every ${w.satSeconds} s step up to ${int(w.satMax)} sends/s and stops at the first step that fell behind ` +
      '(fewer than 99 % of deliveries within 5 s after the step, or p99 ≥ 500 ms) without delivering at least 10 % more than the best step before it, or at which the generator could not send at the asked rate. ' +
      `Memory per idle connection: RSS of the server process after ${int(w.idleConns)} idle connections minus before, divided by ${int(w.idleConns)}. ` +
      'CPU: from /proc over the send window, 100 % = one core.',
    '',
    '- **Parley edge**: `cmd/chat-realtime-svc` in its own process; each join authenticated through user-svc and checked for membership through room-svc over gRPC (both in the runner process) and answered with history (from a stand-in serving the chat-query-svc gRPC contract plus the real JetStream stream tail, so the edge is measured without Cassandra); each send counted in Redis (rate limits raised, not bypassed), stored in JetStream and acknowledged after the PubAck, and fanned out from the stream\'s republish of what it stored (one core NATS subscription per room per edge, gaps filled from the stream).',
    '- **Socket.io + Redis adapter** (`bench/peers/socketio-server.ts`): one Socket.io 4 server, `@socket.io/redis-adapter` on ioredis, websocket transport only, no auth and no storage; `io.to(room).emit` plus the ack callback.',
    '- **bare uWebSockets.js** (`bench/peers/uws-bare-server.ts`): `app.publish(room)` in one process, no broker, no auth, no storage: the ceiling.',
    '',
    ...comparison(ts, info),
    '',
    '### Goals',
    '',
    ...goals(ts, goalLines(others)),
    '',
    ...analysis,
    '',
    '### Saturation ladder',
    '',
    ...ts.flatMap(ladder),
    '## Other benchmarks',
    '',
    ...others.flatMap((o) => [`### ${o.name}`, '', `\`${o.command}\` — ${o.status}, ${Math.round(o.seconds)} s`, '', '```', o.output.trim() || '(no output)', '```', '']),
  ].join('\n');
}
