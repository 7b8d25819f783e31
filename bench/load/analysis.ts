/**
 * The "where Parley falls short, and why" paragraph. The figures come from this run; the
 * reasons are structural (what each send and each join costs on the edge) and hold whatever
 * the numbers of a given run are.
 */
import { sustained, type TargetResult } from './report.js';

const f = (v: number, d = 1) => (Number.isFinite(v) ? v.toFixed(d) : '–');

export function analysis(ts: TargetResult[]): string[] {
  const p = ts.find((t) => t.name.startsWith('Parley'));
  const sio = ts.find((t) => t.name.startsWith('Socket.io'));
  const uws = ts.find((t) => t.name.startsWith('bare'));
  if (!p) return [];
  const out = ['### Where Parley falls short, and why', ''];
  const cpuPerK = (t: TargetResult) => (t.steady.serverCpuPct / t.steady.deliveredPerS) * 1000;
  out.push(
    `- **Work per message.** Every send on Parley's edge is validated, counted in Redis (two rate-limit windows), published to JetStream and acknowledged only after the PubAck (a disk-backed store on a shared core), then comes back as the stream's republish of the stored message (a core NATS subscription per room) before uWS fans it out. ` +
      `The bare uWS peer does a JSON.parse and a publish; the Socket.io peer adds its packet encoding and one Redis PUBLISH, and stores nothing. ` +
      `At the steady rate the edge spent ${f(cpuPerK(p))} % of a core per 1,000 deliveries/s` +
      (sio ? `, Socket.io ${f(cpuPerK(sio))} %` : '') +
      (uws ? `, bare uWS ${f(cpuPerK(uws))} %` : '') +
      ', and NATS (JetStream) worked alongside it.',
  );
  if (sio) {
    const ratio = sustained(p).deliveredPerS / sustained(sio).deliveredPerS;
    if (ratio < 2)
      out.push(
        `- **Against Socket.io** the fanout ratio is ${f(ratio, 2)}×, short of 2×. At 10 members per room fanout cost does not dominate: each delivery is cheap on both (Socket.io encodes a broadcast once, too) and the per-send work above is what Parley pays for durability (promise 1), which the peer does not do at all. ` +
          'Larger rooms move the ratio towards Parley, since its per-send cost is paid once per message and uWS writes the same bytes to every member.',
      );
  }
  if (uws) {
    const ratio = sustained(p).deliveredPerS / sustained(uws).deliveredPerS;
    out.push(
      `- **Against bare uWS** Parley reaches ${f(ratio, 2)}× of the ceiling. The ceiling itself is understated: the bare peer's ladder ends where the generator (two processes parsing every frame) and the other tenants of the two cores run out of CPU, not where uWS does.`,
    );
  }
  const refused = [p.steady, ...p.ladder].find((st) => Object.keys(st.errors).length > 0);
  if (refused)
    out.push(
      `- **Past its ceiling** (${refused.rate.toLocaleString('en-US')} sends/s) the edge answered ${Object.entries(refused.errors).map(([k, v]) => `${v.toLocaleString('en-US')} \`${k}\``).join(', ')} errors: sends JetStream did not store in time are refused with a retryable code instead of queued without bound (promise 6), and the backlog still in flight delays delivery for seconds.`,
    );
  out.push(
    `- **Latency.** p99 at the steady rate was ${f(p.steady.p99)} ms` +
      (sio ? ` against Socket.io's ${f(sio.steady.p99)} ms` : '') +
      (uws ? `; the bare uWS peer, doing nearly nothing, had ${f(uws.steady.p99)} ms in the same conditions` : '') +
      '. With the load average above the core count, every process waits for a core, and the tail measures the scheduler as much as the server. Parley\'s path has more hops (edge → Redis → NATS → disk → NATS → edge) and each hop is a process that can be descheduled.',
    `- **Memory per idle connection** was ${f(p.idle.bytesPerConn / 1024)} KB against a 4 KB goal` +
      (uws ? ` (bare uWS: ${f(uws.idle.bytesPerConn / 1024)} KB)` : '') +
      '. The bare peer shows what a uWS socket itself costs; the rest is the edge\'s per-socket state (session, room membership, send bookkeeping) and, mostly, V8 heap grown by the join path (gRPC calls and a history frame per join) that the collector has not returned to the OS when RSS is read.',
    `- **Machine.** All of it ran on 2 cores shared by the generator, the server under test, NATS, Redis, PostgreSQL, user-svc and room-svc (in the runner), the JVMs of Kafka, Cassandra and Elasticsearch, and other work (load average ${p.loadBefore.map((x) => x.toFixed(1)).join(' / ')} when Parley's run began). Numbers from a quiet machine with the generator elsewhere would be higher for all three; their ratios are the more meaningful result.`,
  );
  return out;
}
