/**
 * Starts each server under test in its own process (so its CPU and RSS are its own) and gives
 * the runner what the generator needs: a target, room ids and, for Parley, session tokens.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { infra, freePort, uniqueName } from '@parley/test-support';
import type { Target } from './clients.js';
import { newUser, startStack } from '@parley/test-support/realtime-svc';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
type Defer = (fn: () => unknown) => void;

export interface ServerUnderTest {
  name: string;
  /** What the broker is, for the report ("NATS JetStream", "Redis pub/sub", "none"). */
  broker: string;
  pid: number;
  /** Every process of the server (Parley may run several edges on one port); `pid` is the first. */
  pids: number[];
  target: Target;
  roomIds: string[];
  tokenOf: (client: number) => string | undefined;
  stop: () => Promise<void>;
}

function spawnServer(script: string, env: Record<string, string>, nodeArgs: string[] = []): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', ...nodeArgs, script], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stderr!.on('data', (d: Buffer) => process.stderr.write(`[${script}] ${d}`));
  return child;
}

async function waitUntil(child: ChildProcess, ready: () => Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await ready().catch(() => false))) {
    if (child.exitCode !== null) throw new Error(`${what} exited with ${child.exitCode}`);
    if (Date.now() > deadline) throw new Error(`${what} not ready within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function stopper(child: ChildProcess): () => Promise<void> {
  return () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null) return resolve();
      const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
      child.once('exit', () => (clearTimeout(kill), resolve()));
      child.kill('SIGTERM');
    });
}

function listeningFlag(child: ChildProcess): () => Promise<boolean> {
  let seen = false;
  child.stdout!.on('data', (d: Buffer) => (seen ||= String(d).includes('"listening"')));
  return async () => seen;
}

const peerRooms = (rooms: number) => Array.from({ length: rooms }, (_, i) => `room-${i}`);

export async function startUwsBare(rooms: number): Promise<ServerUnderTest> {
  const port = await freePort();
  const child = spawnServer('bench/peers/uws-bare-server.ts', { PORT: String(port) });
  await waitUntil(child, listeningFlag(child), 'uws-bare');
  return { name: 'bare uWebSockets.js', broker: 'none', pid: child.pid!, pids: [child.pid!], target: { kind: 'uws', base: `ws://127.0.0.1:${port}` }, roomIds: peerRooms(rooms), tokenOf: () => undefined, stop: stopper(child) };
}

export async function startSocketIo(rooms: number): Promise<ServerUnderTest> {
  const port = await freePort();
  const child = spawnServer('bench/peers/socketio-server.ts', { PORT: String(port), REDIS_URL: infra.redisUrl, REDIS_KEY: uniqueName('sio_bench') });
  await waitUntil(child, listeningFlag(child), 'socketio');
  return { name: 'Socket.io + Redis adapter', broker: 'Redis pub/sub', pid: child.pid!, pids: [child.pid!], target: { kind: 'socketio', base: `http://127.0.0.1:${port}` }, roomIds: peerRooms(rooms), tokenOf: () => undefined, stop: stopper(child) };
}

/**
 * user-svc, room-svc and a stand-in query service run in the runner's process (as in
 * bench/realtime.ts); the edge runs alone from cmd/chat-realtime-svc/main.ts with fresh stream,
 * subject and key names. Rate limits are lifted: every client shares 127.0.0.1 and `users`
 * accounts, which the production limits would rightly refuse.
 */
/**
 * Every benchmark client shares 127.0.0.1 and a handful of accounts, which the production rate
 * limits would rightly refuse: they are raised (not bypassed, every send is still counted).
 */
export const BENCH_EDGE_ENV: Record<string, string> = {
  REALTIME_JOINS_PER_USER: '1000000',
  REALTIME_JOINS_PER_IP: '1000000',
  REALTIME_SENDS_PER_USER: '1000000',
  REALTIME_SENDS_PER_IP: '1000000',
  REALTIME_IDLE_TIMEOUT_S: '120',
  LOG_LEVEL: 'warn',
};

/**
 * The edge of the test stack `s` as its own process (its RSS and CPU are its own), ready when
 * it answers /readyz; stopped by `defer`. `nodeArgs` and `env` add to the bench's own.
 */
export async function spawnEdge(defer: Defer, s: Awaited<ReturnType<typeof startStack>>, opts: { nodeArgs?: string[]; env?: Record<string, string>; port?: number } = {}): Promise<{ port: number; child: ChildProcess }> {
  const port = opts.port ?? (await freePort());
  // BENCH_EDGE_NODE_ARGS: node flags for every edge a bench starts (e.g. --cpu-prof --cpu-prof-dir=/tmp/p).
  const extra = (process.env['BENCH_EDGE_NODE_ARGS'] ?? '').split(' ').filter(Boolean);
  const child = spawnServer('cmd/chat-realtime-svc/main.ts', { ...s.edgeEnv(port, BENCH_EDGE_ENV), ...opts.env }, [...(opts.nodeArgs ?? []), ...extra]);
  defer(stopper(child));
  await waitUntil(child, async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).ok, 'chat-realtime-svc');
  return { port, child };
}

/**
 * Parley's edge as `processes` processes on one port: uWebSockets.js listens with SO_REUSEPORT,
 * so the kernel spreads the connections over them, and each is an edge of its own (its NATS
 * connection, lease and subscriptions), as several edges behind a balancer would be.
 */
export async function startParley(defer: Defer, rooms: number, users: number, processes = 1): Promise<ServerUnderTest> {
  const s = await startStack(defer);
  const first = await spawnEdge(defer, s);
  const children = [first.child];
  for (let i = 1; i < processes; i++) children.push((await spawnEdge(defer, s, { port: first.port })).child);
  const stops = children.map(stopper);
  const accounts = await Promise.all(Array.from({ length: users }, () => newUser(s.users.http)));
  const roomIds: string[] = [];
  for (let i = 0; i < rooms; i += 10) {
    const batch = Array.from({ length: Math.min(10, rooms - i) }, () => s.newRoom(accounts[0]!, accounts.slice(1)));
    roomIds.push(...(await Promise.all(batch)));
  }
  const name = processes === 1 ? 'Parley edge' : `Parley, ${processes} edge processes on one port`;
  return {
    name,
    broker: 'NATS JetStream',
    pid: first.child.pid!,
    pids: children.map((c) => c.pid!),
    target: { kind: 'parley', base: `ws://127.0.0.1:${first.port}` },
    roomIds,
    tokenOf: (i) => accounts[i % users]!.token,
    stop: async () => void (await Promise.all(stops.map((stop) => stop()))),
  };
}
