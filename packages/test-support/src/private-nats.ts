import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually, freePort } from './index.js';

const NATS_SERVER = process.env['NATS_SERVER_BIN'] || '/usr/sbin/nats-server';

/**
 * A NATS server with JetStream of the test's own (free port, own store, no auth), for tests
 * that stop and restart NATS: the shared one must stay up for every other test. `stop` kills
 * it; `start` brings it back on the same port and store, as a restarted server would.
 */
export async function startPrivateNats(): Promise<{ url: string; stop(): Promise<void>; start(): Promise<void>; dispose(): Promise<void> }> {
  const port = await freePort();
  const store = await mkdtemp(join(tmpdir(), 'parley-nats-'));
  let proc: ChildProcess | undefined;
  const start = async () => {
    const child = spawn(NATS_SERVER, ['-js', '-sd', store, '-a', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
    proc = child;
    await eventually(
      () =>
        new Promise<boolean>((resolve) => {
          import('node:net').then(({ connect }) => {
            const s = connect(port, '127.0.0.1', () => (s.destroy(), resolve(true)));
            s.on('error', () => resolve(false));
          });
        }),
      10_000,
      50,
    );
  };
  const stop = async () => {
    const child = proc;
    proc = undefined;
    if (!child || child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
  };
  await start();
  return {
    url: `nats://127.0.0.1:${port}`,
    stop,
    start,
    dispose: async () => {
      await stop();
      await rm(store, { recursive: true, force: true });
    },
  };
}
