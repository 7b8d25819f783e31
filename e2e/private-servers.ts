/**
 * A NATS and a Redis of a drill's own, so they can be stopped and restarted under load without
 * touching the servers the machine (and everybody else's tests) run on:
 *
 *   nats    nats-server -c infra/nats/nats.conf (the project's users and permissions, JetStream)
 *           on a free port, its monitor on another, its JetStream store in `<dir>/nats`
 *   redis   redis-server on a free port with the flags scripts/infra.sh uses (no persistence:
 *           a restart comes back empty, the harder case), working directory `<dir>/redis`
 *
 * `restart()` stops the server with SIGTERM (SIGKILL after 10 s), waits `downMs`, and starts it
 * again on the same port and data folder, as an operator's restart would.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync } from 'node:fs';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { freePort } from '@parley/test-support';

const root = fileURLToPath(new URL('../', import.meta.url));
/** The `test` user of infra/nats/nats.conf: broad permissions, as e2e/system.ts's processes need. */
const NATS_TEST_USER = 'test:local-dev-test';

export interface PrivateServer {
  name: 'nats' | 'redis';
  url: string;
  port: number;
  dataDir: string;
  /** Stops, waits `downMs`, starts again; resolves once it accepts connections. */
  restart(downMs: number): Promise<void>;
  stop(): Promise<void>;
}

export async function privateNats(dir: string): Promise<PrivateServer> {
  const [port, monitor] = [await freePort(), await freePort()];
  const dataDir = `${dir}/nats`;
  mkdirSync(dataDir, { recursive: true });
  const args = ['-c', `${root}infra/nats/nats.conf`, '-a', '127.0.0.1', '-p', String(port), '-m', String(monitor), '-l', `${dir}/nats-server.log`];
  return serve('nats', process.env['NATS_SERVER_BIN'] || 'nats-server', args, { PARLEY_NATS_STORE_DIR: dataDir }, port, `nats://${NATS_TEST_USER}@127.0.0.1:${port}`, dataDir);
}

export async function privateRedis(dir: string): Promise<PrivateServer> {
  const port = await freePort();
  const dataDir = `${dir}/redis`;
  mkdirSync(dataDir, { recursive: true });
  const args = ['--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', 'no', '--dir', dataDir, '--logfile', `${dir}/redis-server.log`];
  return serve('redis', process.env['REDIS_SERVER_BIN'] || 'redis-server', args, {}, port, `redis://127.0.0.1:${port}`, dataDir);
}

async function serve(name: PrivateServer['name'], bin: string, args: string[], env: Record<string, string>, port: number, url: string, dataDir: string): Promise<PrivateServer> {
  let child: ChildProcess | undefined;
  const out = openSync(`${dataDir}/../${name}-server.out`, 'a');
  const start = async () => {
    const c = spawn(bin, args, { env: { ...process.env, ...env }, stdio: ['ignore', out, out] });
    child = c;
    const exited = new Promise<never>((_, reject) => c.once('exit', (code) => reject(new Error(`${name}-server exited (${code}) while starting; see ${dataDir}/..`))));
    await Promise.race([untilListening(port, 30_000), exited]);
    c.removeAllListeners('exit');
  };
  const stop = async () => {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const gone = new Promise((r) => c.once('exit', r));
    c.kill('SIGTERM');
    const hard = setTimeout(() => c.kill('SIGKILL'), 10_000);
    await gone;
    clearTimeout(hard);
  };
  await start();
  return {
    name,
    url,
    port,
    dataDir,
    stop,
    restart: async (downMs) => {
      await stop();
      await new Promise((r) => setTimeout(r, downMs));
      await start();
    },
  };
}

async function untilListening(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1', () => (s.destroy(), resolve(true)));
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
