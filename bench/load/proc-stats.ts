/**
 * CPU and memory of a process from /proc, so no sampling dependency is needed: utime+stime from
 * /proc/<pid>/stat (clock ticks) and VmRSS from /proc/<pid>/status.
 */
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

const TICKS_PER_S = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
  } catch {
    return 100;
  }
})();

/** CPU seconds used so far (user + system), or NaN if the process is gone. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may hold spaces; fields after its closing parenthesis are fixed.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / TICKS_PER_S;
  } catch {
    return Number.NaN;
  }
}

export function rssBytes(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

export function loadAverage(): [number, number, number] {
  const [a, b, c] = readFileSync('/proc/loadavg', 'utf8').split(' ').map(Number);
  return [a!, b!, c!];
}

/** The pid of a running program by exact name (nats-server, redis-server), if there is one. */
export function pidOf(name: string): number | undefined {
  try {
    const out = execFileSync('pgrep', ['-x', '-o', name]).toString().trim();
    return out ? Number(out) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Watches processes over a window: CPU as a share of one core (100 % = one core busy) and the
 * highest RSS seen, sampled every `everyMs`.
 */
export class ProcWatch {
  private readonly cpu0: number[];
  private readonly t0 = performance.now();
  private readonly peak: number[];
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly pids: number[], everyMs = 250) {
    this.cpu0 = pids.map(cpuSeconds);
    this.peak = pids.map(rssBytes);
    this.timer = setInterval(() => this.pids.forEach((p, i) => (this.peak[i] = Math.max(this.peak[i]!, rssBytes(p) || 0))), everyMs);
  }

  /** Per pid: mean CPU % of one core over the window, and peak RSS in bytes. */
  stop(): Array<{ cpuPct: number; peakRss: number }> {
    clearInterval(this.timer);
    const secs = (performance.now() - this.t0) / 1000;
    return this.pids.map((p, i) => ({ cpuPct: ((cpuSeconds(p) - this.cpu0[i]!) / secs) * 100, peakRss: Math.max(this.peak[i]!, rssBytes(p) || 0) }));
  }
}
