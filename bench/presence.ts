/**
 * What presence and receipts cost (not a test): one room of BENCH_MEMBERS (1000) members on one
 * edge (its own process, with a private Redis so its commands can be counted), BENCH_STEADY
 * (900) of them connected throughout while the other 100 join and leave at BENCH_CHURN (100)
 * transitions per second, and BENCH_READS (100) read marks per second, for BENCH_SECONDS (20):
 *
 *   - frames and bytes per second each steady socket receives (presence_diff, receipts)
 *   - the edge's CPU (share of one core) and the Redis commands per second it caused
 *
 * Then the unread counts of a user in BENCH_ROOMS (500) rooms (GET /v1/unread on chat-query-svc
 * against the real stores, 20 messages per room): p50/p99 at 1 and 16 in flight.
 *
 *   node --import tsx bench/presence.ts
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import { Client, newUser, startStack } from '@parley/test-support/realtime-svc';
import { makeEnvelopes, writeCql, writeEs } from '@parley/test-support/store-fixtures';
import { startAll, call } from '@parley/test-support/query-svc';
import { privateRedis } from '../e2e/private-servers.js';
import { defer, runBench } from './load/lifetime.js';
import { spawnEdge } from './load/servers.js';
import { cpuSeconds } from './load/proc-stats.js';

const num = (name: string, dflt: number) => Number(process.env[name] ?? dflt);
const MEMBERS = num('BENCH_MEMBERS', 1000);
const STEADY = num('BENCH_STEADY', 900);
const CHURN = num('BENCH_CHURN', 100);
const READS = num('BENCH_READS', 100);
const SECONDS = num('BENCH_SECONDS', 20);
const ROOMS = num('BENCH_ROOMS', 500);
const REQUESTS = num('BENCH_REQUESTS', 500);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function roomCost(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'parley-presence-bench-'));
  const redis = await privateRedis(dir);
  defer(() => redis.stop());
  // A thousand accounts from one address: the registration and login limits are raised (not bypassed).
  const s = await startStack(defer, { userEnv: { USER_REGISTER_MAX_PER_IP: '1000000', USER_LOGIN_MAX_PER_IP: '1000000' } });
  const { port, child } = await spawnEdge(defer, s, { env: { REDIS_URL: redis.url } });
  const t0 = performance.now();
  const users = [];
  for (let i = 0; i < MEMBERS; i += 50) users.push(...(await Promise.all(Array.from({ length: Math.min(50, MEMBERS - i) }, () => newUser(s.users.http)))));
  const room = await s.newRoom(users[0]!, users.slice(1));
  console.error(`bench: ${MEMBERS} members in one room in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const url = `ws://127.0.0.1:${port}/v1/rooms/${room}/ws`;
  const steady: Client[] = [];
  for (let i = 0; i < STEADY; i += 50) {
    steady.push(...(await Promise.all(users.slice(i, Math.min(STEADY, i + 50)).map((u) => Client.open(url, u.token)))));
  }
  await Promise.all(steady.map((c) => c.next((f) => f.type === 'presence', 30_000)));
  defer(() => steady.forEach((c) => c.close()));
  const churners = users.slice(STEADY);
  const messageIds = ['386100000000000001', '386100000000000002', '386100000000000003'];
  await sleep(1000);
  const before = steady.map((c) => c.frames.length);
  const bytesBefore = steady.map((c) => JSON.stringify(c.frames).length);
  const redisClient = new Redis(redis.url);
  defer(() => redisClient.quit());
  const commands = async () => Number(/total_commands_processed:(\d+)/.exec(await redisClient.info('stats'))?.[1] ?? 0);
  const [cpu0, cmd0, wall0] = [cpuSeconds(child.pid!), await commands(), performance.now()];
  const open = new Map<number, Client>();
  let transitions = 0;
  let reads = 0;
  const end = Date.now() + SECONDS * 1000;
  // Ten churners, each its own slice of the accounts, together at CHURN transitions per second.
  const LANES = 10;
  const churn = Promise.all(
    Array.from({ length: LANES }, async (_, lane) => {
      const mine = churners.map((_, k) => k).filter((k) => k % LANES === lane);
      for (let i = 0; Date.now() < end; i++) {
        const k = mine[i % mine.length]!;
        const due = Date.now() + (1000 * LANES) / CHURN;
        const had = open.get(k);
        if (had) {
          had.close();
          open.delete(k);
        } else {
          open.set(k, await Client.open(url, churners[k]!.token));
        }
        transitions += 1;
        await sleep(Math.max(0, due - Date.now()));
      }
    }),
  );
  const reading = (async () => {
    for (let i = 0; Date.now() < end; i++) {
      steady[i % steady.length]!.send({ type: 'read', message_id: messageIds[i % messageIds.length] });
      reads += 1;
      await sleep(1000 / READS);
    }
  })();
  await Promise.all([churn, reading]);
  await sleep(500);
  const wall = (performance.now() - wall0) / 1000;
  const cpu = cpuSeconds(child.pid!) - cpu0;
  const cmds = (await commands()) - cmd0;
  for (const c of open.values()) c.close();
  const perSocket = steady.map((c, i) => {
    const fresh = c.frames.slice(before[i]);
    return { frames: fresh.length, diffs: fresh.filter((f) => f.type === 'presence_diff').length, receipts: fresh.filter((f) => f.type === 'receipts').length, bytes: JSON.stringify(c.frames).length - bytesBefore[i]! };
  });
  const avg = (k: 'frames' | 'diffs' | 'receipts' | 'bytes') => perSocket.reduce((n, x) => n + x[k], 0) / perSocket.length / wall;
  console.log(`\n=== presence and receipts: one room of ${MEMBERS} members, ${STEADY} connected, ${transitions} join/leave transitions and ${reads} read marks in ${wall.toFixed(1)} s ===`);
  console.log(`per steady socket: ${avg('frames').toFixed(1)} frames/s (${avg('diffs').toFixed(1)} presence_diff, ${avg('receipts').toFixed(1)} receipts), ${(avg('bytes') / 1024).toFixed(1)} KiB/s`);
  console.log(`edge CPU: ${((cpu / wall) * 100).toFixed(0)} % of one core; Redis: ${(cmds / wall).toFixed(0)} commands/s (for ${(transitions / wall).toFixed(0)} transitions/s)`);
}

async function unreadCost(): Promise<void> {
  const q = await startAll(defer, { LOG_LEVEL: 'warn' });
  const owner = await newUser(q.users.http);
  const other = await newUser(q.users.http);
  const rooms: string[] = [];
  for (let i = 0; i < ROOMS; i++) rooms.push(await q.newRoom(owner));
  const now = Date.now();
  const envs = rooms.flatMap((room, r) => makeEnvelopes(Array.from({ length: 20 }, (_, i) => ({ roomId: room, senderId: other.id, body: `message ${i} @x`, at: now - 100_000 + i * 100 + r })), r % 1000));
  await Promise.all([writeCql(q.cql, q.keyspace, envs, 16), writeEs(q.es, q.alias, envs)]);
  // A mark in every other room, halfway.
  for (let r = 0; r < ROOMS; r += 2) await call(q.http, 'PUT', `/v1/rooms/${rooms[r]}/read`, { token: owner.token, body: { message_id: envs[r * 20 + 10]!.id } });
  const first = await call(q.http, 'GET', '/v1/unread', { token: owner.token });
  if (first.status !== 200 || first.body.rooms.length !== ROOMS) throw new Error(`unread answered ${first.status} with ${first.body.rooms?.length} rooms`);
  console.log(`\n=== unread counts of a user in ${ROOMS} rooms (20 messages each, half read), GET /v1/unread, ${REQUESTS} requests ===`);
  for (const concurrency of [1, 16]) {
    const lat: number[] = [];
    let next = 0;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next++ < REQUESTS) {
          const t = performance.now();
          await call(q.http, 'GET', '/v1/unread', { token: owner.token });
          lat.push(performance.now() - t);
        }
      }),
    );
    lat.sort((a, b) => a - b);
    const p = (x: number) => lat[Math.min(lat.length - 1, Math.floor(x * lat.length))]!.toFixed(1);
    console.log(`${String(concurrency).padStart(2)} in flight: p50 ${p(0.5)} ms, p99 ${p(0.99)} ms, ${(REQUESTS / ((performance.now() - t0) / 1000)).toFixed(0)} req/s`);
  }
}

await runBench(async () => {
  await roomCost();
  await unreadCost();
});
