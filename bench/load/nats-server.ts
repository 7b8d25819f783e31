/**
 * The project's nats-server process (the one the tests and benches connect to), so a bench can
 * read its CPU and RSS from /proc. The machine may run other nats-servers (4222), so the pid
 * is found by the port it listens on, not by name.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { infra } from '@parley/test-support';

export function natsPort(): number {
  return Number(new URL(infra.natsUrl.split(',')[0]!).port || 4222);
}

/** The pid of the nats-server listening on the project's NATS port; undefined if none is found. */
export function natsServerPid(port = natsPort()): number | undefined {
  try {
    const out = execFileSync('ss', ['-ltnpH', `sport = :${port}`], { stdio: ['ignore', 'pipe', 'ignore'] }).toString();
    const m = /"nats-server",pid=(\d+)/.exec(out);
    if (m) return Number(m[1]);
  } catch {
    /* no ss: look through /proc */
  }
  // Without ss (or without the right to see other users' sockets): a nats-server whose command
  // line names the port, else the only nats-server there is.
  const found: Array<{ pid: number; cmd: string }> = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const cmd = readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0').join(' ');
      if (/(^|\/)nats-server\b/.test(cmd)) found.push({ pid: Number(d), cmd });
    } catch {
      /* gone meanwhile */
    }
  }
  return (found.find((f) => f.cmd.includes(String(port))) ?? (found.length === 1 ? found[0] : undefined))?.pid;
}
