/**
 * What the edge's check of a command costs (chat-query-svc PrepareCommand over gRPC, against
 * the real stores), beside the latest-50 read every join makes, in one run:
 *
 *   node --import tsx bench/prepare-command.ts        (BENCH_REQUESTS, BENCH_CONCURRENCY)
 *
 * A plain send asks only for its retry key (one Cassandra point read); an edit, delete, reaction
 * or reply also asks membership (room-svc) and the named message's state.
 */
import { performance } from 'node:perf_hooks';
import { credentials, Metadata } from '@grpc/grpc-js';
import { chatV1 } from '@parley/proto';
import { makeEnvelopes, writeCql } from '@parley/test-support/store-fixtures';
import { startAll, newUser } from '@parley/test-support/query-svc';

const REQUESTS = Number(process.env['BENCH_REQUESTS'] ?? 3000);
const cleanups: Array<() => unknown> = [];
const defer = (fn: () => unknown) => void cleanups.push(fn);

async function measure(name: string, concurrency: number, fn: (i: number) => Promise<unknown>): Promise<void> {
  const lat: number[] = [];
  let next = 0;
  const started = performance.now();
  const worker = async () => {
    while (next < REQUESTS) {
      const i = next++;
      const t0 = performance.now();
      await fn(i);
      lat.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  lat.sort((a, b) => a - b);
  const p = (q: number) => lat[Math.min(lat.length - 1, Math.floor(q * lat.length))]!.toFixed(2);
  console.log(`${name.padEnd(46)} ${String(concurrency).padStart(2)} in flight   p50 ${p(0.5).padStart(6)} ms   p99 ${p(0.99).padStart(6)} ms   ${(REQUESTS / ((performance.now() - started) / 1000)).toFixed(0).padStart(5)} req/s`);
}

async function main(): Promise<void> {
  const q = await startAll(defer, { LOG_LEVEL: 'warn' });
  const owner = await newUser(q.users.http);
  const room = await q.newRoom(owner);
  const envs = makeEnvelopes(Array.from({ length: 2000 }, (_, i) => ({ roomId: room, senderId: owner.id, body: `message ${i}`, at: Date.now() - 100_000 + i * 10 })));
  await writeCql(q.cql, q.keyspace, envs, 16);
  const client = new chatV1.ChatQueryServiceClient(q.grpcAddr, credentials.createInsecure());
  defer(() => client.close());
  const md = new Metadata();
  md.set('authorization', `Bearer ${owner.token}`);
  const prepare = (clientMsgId: string, messageId = '') =>
    new Promise((resolve, reject) => client.prepareCommand({ roomId: room, clientMsgId, messageId }, md, (err, res) => (err ? reject(err) : resolve(res))));
  const latest = () =>
    new Promise((resolve, reject) => client.listMessages({ roomId: room, limit: 50, beforeId: '', afterId: '', changesAfterId: '' }, md, (err, res) => (err ? reject(err) : resolve(res))));
  for (let i = 0; i < 200; i++) await prepare(`warm${i}`);
  console.log(`\n=== PrepareCommand (the edge's check of a command) vs ListMessages latest-50, ${REQUESTS} requests each ===`);
  for (const c of [1, 16]) {
    await measure('PrepareCommand, plain send (new retry key)', c, (i) => prepare(`new${c}x${i}`));
    await measure('PrepareCommand, a retry (key already logged)', c, (i) => prepare(envs[i % envs.length]!.client_msg_id));
    await measure('PrepareCommand, edit/react (membership + state)', c, (i) => prepare(`e${c}x${i}`, envs[i % envs.length]!.id));
    await measure('ListMessages latest-50 (every join)', c, () => latest());
  }
}

main()
  .catch((err: unknown) => {
    console.error(`bench failed: ${(err as Error).stack ?? String(err)}`);
    process.exitCode = 1;
  })
  .finally(async () => {
    while (cleanups.length > 0) await Promise.resolve().then(cleanups.pop()!).catch(() => undefined);
    process.exit();
  });
