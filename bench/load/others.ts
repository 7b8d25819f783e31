/**
 * Runs the other bench scripts one after another, each bounded by a deadline, and keeps their
 * output for the report. A script that is missing, fails or runs out of time is reported as
 * such; the comparison does not depend on them.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export interface OtherRun {
  name: string;
  command: string;
  seconds: number;
  status: string;
  output: string;
}

interface Script {
  title: string;
  file: string;
  env: Record<string, string>;
  timeoutS: number;
}

/**
 * Sizes below the scripts' own defaults so all of them fit in about ten minutes on the shared
 * machine (the comparison already measures idle memory at full size). realtime and pipeline
 * each run their measured part again per variant of bench/load/observed.ts (plain, scraped and
 * traced at 1 % and 100 %), hence their longer deadlines.
 */
const SCRIPTS: Record<string, Script> = {
  realtime: { title: 'Edge memory and latency (bench/realtime.ts)', file: 'bench/realtime.ts', env: { BENCH_CONNS: '5000' }, timeoutS: 300 },
  query: { title: 'Query service latency (bench/query.ts)', file: 'bench/query.ts', env: { BENCH_BIG_ROOM: '20000', BENCH_REQUESTS: '1000' }, timeoutS: 120 },
  pipeline: { title: 'Write path: JetStream → Kafka → Cassandra / Elasticsearch (bench/pipeline.ts)', file: 'bench/pipeline.ts', env: { BENCH_MESSAGES: '20000', BENCH_LATENCY_SECONDS: '10' }, timeoutS: 480 },
  'join-churn': { title: 'Join churn: garbage and RSS per join (bench/join-churn.ts)', file: 'bench/join-churn.ts', env: { BENCH_JOINS: '3000' }, timeoutS: 180 },
  'join-cost': { title: 'Join cost: with and without the membership cache (bench/join-cost.ts)', file: 'bench/join-cost.ts', env: { BENCH_JOINS: '1500' }, timeoutS: 240 },
  // Its phases carry their own deadlines (about 4 to 5 minutes in all on the shared machine); the margin is for stack start and cleanup.
  rooms: { title: 'Rooms per edge: 10,000 rooms, a 5,000-socket room, fanout designs at 100,000 (bench/rooms.ts)', file: 'bench/rooms.ts', env: {}, timeoutS: 420 },
  // Its own deadline (BENCH_DEADLINE_S) stops it, servers and generators included, before this one.
  connections: { title: 'Connections per edge: idle sockets and join rate vs bare uWS and Socket.io (bench/connections.ts)', file: 'bench/connections.ts', env: { BENCH_CONNS: '6000', BENCH_OPEN_DEADLINE_S: '60', BENCH_DEADLINE_S: '225' }, timeoutS: 240 },
};

function runOne(root: string, s: Script): Promise<OtherRun> {
  const envText = Object.entries(s.env).map(([k, v]) => `${k}=${v} `).join('');
  const command = `${envText}node --import tsx ${s.file}`;
  if (!existsSync(join(root, s.file))) return Promise.resolve({ name: s.title, command, seconds: 0, status: 'not present', output: '' });
  const t0 = Date.now();
  return new Promise((resolve) => {
    // Its own process group, so a deadline stops the script and whatever it spawned.
    const child = spawn(process.execPath, ['--import', 'tsx', s.file], { cwd: root, env: { ...process.env, ...s.env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += String(d)));
    child.stderr.on('data', (d: Buffer) => (err = (err + String(d)).slice(-4000)));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid!, 'SIGTERM');
        setTimeout(() => {
          try {
            process.kill(-child.pid!, 'SIGKILL');
          } catch {
            /* the group is gone: it stopped on the SIGTERM */
          }
        }, 10_000).unref();
      } catch {
        /* already gone */
      }
    }, s.timeoutS * 1000);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      const status = timedOut ? `stopped after its ${s.timeoutS} s deadline` : code === 0 ? 'ok' : `failed (exit ${code ?? signal})`;
      const firstError = err.split('\n').find((l) => /error/i.test(l)) ?? '';
      const output = code === 0 ? out : `${out}\n--- stderr: first error line, then the tail ---\n${firstError}\n…\n${err.split('\n').slice(-8).join('\n')}`;
      resolve({ name: s.title, command, seconds: (Date.now() - t0) / 1000, status, output });
    });
  });
}

export async function runOthers(names: string[], root: string): Promise<OtherRun[]> {
  const out: OtherRun[] = [];
  for (const n of names) {
    const s = SCRIPTS[n];
    if (!s) throw new Error(`unknown bench script ${n} (${Object.keys(SCRIPTS).join(', ')})`);
    console.log(JSON.stringify({ phase: 'other', script: s.file }));
    out.push(await runOne(root, s));
  }
  return out;
}
