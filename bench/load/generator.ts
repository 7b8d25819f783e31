/**
 * The parent side of the load generator: forks the worker processes, hands each its rooms and
 * merges what they measured. One generator serves every target in turn, so each target gets
 * the same schedule from the same processes.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Target } from './clients.js';
import { Histogram } from './histogram.js';
import { assignClients, shareOf } from './plan.js';
import type { ClientSpec, Command, ConnectResult, Reply, RunResult } from './protocol.js';

const WORKER = fileURLToPath(new URL('./worker.ts', import.meta.url));

export interface MergedRun {
  sent: number;
  sendSeconds: number;
  acked: number;
  errors: Record<string, number>;
  expected: number;
  delivered: number;
  deliveredInWindow: number;
  closedDuringRun: number;
  latency: Histogram;
  ack: Histogram;
}

class WorkerHandle {
  private seq = 0;
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  constructor(readonly proc: ChildProcess) {
    proc.on('message', (m: Reply) => {
      const w = this.waiting.get(m.seq);
      this.waiting.delete(m.seq);
      if (m.ok) w?.resolve(m.result);
      else w?.reject(new Error(m.error));
    });
    proc.once('exit', (code) => {
      for (const w of this.waiting.values()) w.reject(new Error(`load worker exited (${code})`));
      this.waiting.clear();
    });
  }

  call<T>(cmd: Command): Promise<T> {
    const seq = ++this.seq;
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(seq, { resolve: resolve as (v: unknown) => void, reject });
      this.proc.send({ ...cmd, seq });
    });
  }
}

export class LoadGenerator {
  private readonly workers: WorkerHandle[];
  private held: number[] = [];

  constructor(workers: number) {
    this.workers = Array.from({ length: workers }, () => new WorkerHandle(fork(WORKER, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })));
  }

  get pids(): number[] {
    return this.workers.map((w) => w.proc.pid!);
  }

  /**
   * Opens `clients` connections over `rooms` (client i in room i % rooms), rooms split over the
   * workers. `tokenOf(i)` gives client i its session token where the target needs one.
   */
  async connect(target: Target, roomIds: string[], clients: number, tokenOf: (i: number) => string | undefined, concurrency = 50): Promise<ConnectResult> {
    const plan = assignClients(clients, roomIds.length, this.workers.length);
    const results = await Promise.all(
      plan.map((slots, w) => {
        const specs: ClientSpec[] = slots.map((s) => ({ room: roomIds[s.room]!, ...(tokenOf(s.client) ? { token: tokenOf(s.client)! } : {}) }));
        return this.workers[w]!.call<ConnectResult>({ op: 'connect', target, clients: specs, concurrency: Math.ceil(concurrency / this.workers.length) });
      }),
    );
    this.held = results.map((r, w) => (this.held[w] ?? 0) + r.connected);
    const firstError = results.find((r) => r.firstError)?.firstError;
    return { connected: sum(results.map((r) => r.connected)), failed: sum(results.map((r) => r.failed)), ...(firstError ? { firstError } : {}) };
  }

  /** Every worker sends its share of `rate` for `seconds`, then waits up to `graceMs` for stragglers. */
  async run(rate: number, seconds: number, graceMs: number, bodyBytes: number): Promise<MergedRun> {
    const all = sum(this.held);
    const parts = await Promise.all(
      this.workers.map((w, i) => w.call<RunResult>({ op: 'run', rate: shareOf(rate, this.held[i]!, all), seconds, graceMs, bodyBytes })),
    );
    const latency = new Histogram();
    const ack = new Histogram();
    const errors: Record<string, number> = {};
    for (const p of parts) {
      latency.merge(p.latency);
      ack.merge(p.ack);
      for (const [k, v] of Object.entries(p.errors)) errors[k] = (errors[k] ?? 0) + v;
    }
    const total = (k: 'sent' | 'acked' | 'expected' | 'delivered' | 'deliveredInWindow' | 'closedDuringRun') => sum(parts.map((p) => p[k]));
    return {
      sent: total('sent'),
      sendSeconds: Math.max(...parts.map((p) => p.sendSeconds)),
      acked: total('acked'),
      errors,
      expected: total('expected'),
      delivered: total('delivered'),
      deliveredInWindow: total('deliveredInWindow'),
      closedDuringRun: total('closedDuringRun'),
      latency,
      ack,
    };
  }

  async closeAll(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.call({ op: 'close' })));
    this.held = this.workers.map(() => 0);
  }

  stop(): void {
    for (const w of this.workers) w.proc.kill('SIGTERM');
  }
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
