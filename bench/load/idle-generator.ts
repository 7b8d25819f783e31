/**
 * The parent side of bench/connections.ts's generator: forks `workers` idle-worker.ts processes
 * (each under its own RLIMIT_NOFILE), deals the sockets out to them round-robin, merges their
 * join times and CPU. Every call has a deadline; `kill` ends the processes and so their sockets.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Histogram } from './histogram.js';
import type { IdleCommand, IdleKind, IdleReply, IdleSpec, OpenResult } from './idle-protocol.js';

const WORKER = fileURLToPath(new URL('./idle-worker.ts', import.meta.url));

/**
 * The workers' OpenResults together: `seconds` is the wall time of the whole open phase (the
 * slowest worker), `cpuSeconds` all generator processes' CPU over it, summed.
 */
export type MergedOpen = Omit<OpenResult, 'latency'> & { latency: Histogram };

export class IdleGenerator {
  private readonly procs: ChildProcess[];
  private seq = 0;
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  constructor(workers: number) {
    this.procs = Array.from({ length: workers }, () => {
      const p = fork(WORKER, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      p.on('message', (m: IdleReply) => {
        const w = this.waiting.get(m.seq);
        this.waiting.delete(m.seq);
        if (m.ok) w?.resolve(m.result);
        else w?.reject(new Error(m.error));
      });
      p.once('exit', (code) => {
        for (const w of this.waiting.values()) w.reject(new Error(`generator process exited (${code})`));
        this.waiting.clear();
      });
      return p;
    });
  }

  get pids(): number[] {
    return this.procs.map((p) => p.pid!);
  }

  /** Socket i goes to worker i % workers; `concurrency` joins in flight over all of them. */
  async open(kind: IdleKind, specs: IdleSpec[], concurrency: number, deadlineMs: number): Promise<MergedOpen> {
    const shares = this.procs.map((_, w) => specs.filter((_, i) => i % this.procs.length === w));
    const per = Math.max(1, Math.floor(concurrency / this.procs.length));
    const results = await Promise.all(shares.map((s, w) => this.call<OpenResult>(w, { op: 'open', kind, specs: s, concurrency: per, deadlineMs }, deadlineMs + 35_000)));
    const latency = new Histogram();
    for (const r of results) latency.merge(r.latency);
    const firstError = results.find((r) => r.firstError)?.firstError;
    return {
      opened: sum(results.map((r) => r.opened)),
      failed: sum(results.map((r) => r.failed)),
      notTried: sum(results.map((r) => r.notTried)),
      ...(firstError ? { firstError } : {}),
      seconds: Math.max(...results.map((r) => r.seconds)),
      cpuSeconds: sum(results.map((r) => r.cpuSeconds)),
      latency,
    };
  }

  /** Sockets still open, and how many the server closed since they joined. */
  async held(): Promise<{ held: number; closedByServer: number }> {
    const r = await Promise.all(this.procs.map((_, w) => this.call<{ held: number; closedByServer: number }>(w, { op: 'held' }, 10_000)));
    return { held: sum(r.map((x) => x.held)), closedByServer: sum(r.map((x) => x.closedByServer)) };
  }

  async close(): Promise<void> {
    await Promise.all(this.procs.map((_, w) => this.call(w, { op: 'close' }, 30_000)));
  }

  kill(): void {
    for (const p of this.procs) if (p.exitCode === null) p.kill('SIGKILL');
  }

  private call<T>(worker: number, cmd: IdleCommand, timeoutMs: number): Promise<T> {
    const seq = ++this.seq;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(seq);
        reject(new Error(`generator ${cmd.op} gave no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting.set(seq, { resolve: (v) => (clearTimeout(timer), resolve(v as T)), reject: (e) => (clearTimeout(timer), reject(e)) });
      this.procs[worker]!.send({ ...cmd, seq });
    });
  }
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
