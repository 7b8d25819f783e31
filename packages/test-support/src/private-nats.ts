import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually, freePort, infra } from './index.js';

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

/**
 * A TCP relay to the shared NATS that can drop every connection through it and refuse new ones
 * (`cut`) until `restore`: one client is cut off while the server and every other client stay
 * up. Listens on a port of its own choosing; `close` ends it.
 */
export async function natsRelay(): Promise<{ url: string; cut(): void; restore(): void; accepted(): number; close(): Promise<void> }> {
  const target = new URL(infra.natsUrl);
  const sockets = new Set<net.Socket>();
  let open = true;
  let accepted = 0;
  const server = net.createServer((client) => {
    if (!open) return client.destroy();
    accepted += 1;
    const upstream = net.connect(Number(target.port || 4222), target.hostname);
    for (const [a, b] of [[client, upstream], [upstream, client]] as const) {
      sockets.add(a);
      a.pipe(b);
      a.on('error', () => b.destroy());
      a.on('close', () => {
        sockets.delete(a);
        b.destroy();
      });
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  const cut = () => {
    open = false;
    sockets.forEach((s) => s.destroy());
  };
  return {
    url: infra.natsUrl.replace(target.host, `127.0.0.1:${port}`),
    cut,
    restore: () => {
      open = true;
    },
    accepted: () => accepted,
    close: () => (cut(), new Promise<void>((r) => server.close(() => r()))),
  };
}
