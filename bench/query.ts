/**
 * Latency of chat-query-svc under concurrent load, against the real stores.
 *
 *   node --import tsx bench/query.ts
 *
 * Starts user-svc, room-svc and chat-query-svc in this process (random schemas, keyspace and
 * index prefix, dropped at the end), loads one room of BENCH_BIG_ROOM messages and
 * BENCH_ROOMS rooms of BENCH_PER_ROOM messages straight into Cassandra (unlogged batch per
 * partition) and Elasticsearch (bulk), then measures with BENCH_CONCURRENCY requests in flight:
 * gRPC ListMessages latest-50 and REST search, each on the big room and on random small rooms.
 * The load generator shares the machine with the services and the databases.
 */
import { performance } from 'node:perf_hooks';
import { makeEnvelopes, writeCql, writeEs } from '@parley/test-support/store-fixtures';
import { startAll, newUser } from '@parley/test-support/query-svc';

const num = (name: string, dflt: number) => Number(process.env[name] ?? dflt);
const BIG = num('BENCH_BIG_ROOM', 100_000);
const ROOMS = num('BENCH_ROOMS', 1000);
const PER_ROOM = num('BENCH_PER_ROOM', 20);
const CONCURRENCY = num('BENCH_CONCURRENCY', 16);
const REQUESTS = num('BENCH_REQUESTS', 2000);
const DAY = 24 * 3600 * 1000;
const WORDS = 'alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november oscar papa quebec romeo sierra tango uniform victor whiskey xray yankee zulu'.split(' ');

const cleanups: Array<() => unknown> = [];
const defer = (fn: () => unknown) => void cleanups.push(fn);

function sentence(i: number): string {
  const w = (k: number) => WORDS[(i * 7 + k * 13 + ((i >> k) & 7)) % WORDS.length];
  return `${w(1)} ${w(2)} ${w(3)} message ${i} ${w(4)} ${w(5)}`;
}

async function measure(name: string, fn: (i: number) => Promise<unknown>): Promise<void> {
  const lat: number[] = [];
  let next = 0;
  let errors = 0;
  const started = performance.now();
  const worker = async () => {
    while (next < REQUESTS) {
      const i = next++;
      const t0 = performance.now();
      try {
        await fn(i);
      } catch {
        errors += 1;
      }
      lat.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const secs = (performance.now() - started) / 1000;
  lat.sort((a, b) => a - b);
  const p = (q: number) => lat[Math.min(lat.length - 1, Math.floor(q * lat.length))]!.toFixed(1);
  console.log(`${name.padEnd(34)} p50 ${p(0.5).padStart(7)} ms   p99 ${p(0.99).padStart(7)} ms   ${(REQUESTS / secs).toFixed(0).padStart(5)} req/s   errors ${errors}`);
}

async function main(): Promise<void> {
  const q = await startAll(defer, { LOG_LEVEL: 'warn' });
  const owner = await newUser(q.users.http);
  const now = Date.now();
  let t0 = performance.now();
  const big = await q.newRoom(owner, new Date(now - 60 * DAY));
  const small: string[] = [];
  for (let i = 0; i < ROOMS; i++) small.push(await q.newRoom(owner, new Date(now - 30 * DAY)));
  console.log(`rooms: 1 + ${ROOMS} created in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

  t0 = performance.now();
  // The big room spans 50 days (5+ buckets); small rooms 30 days.
  const bigEnvs = makeEnvelopes(Array.from({ length: BIG }, (_, i) => ({ roomId: big, senderId: owner.id, body: sentence(i), at: now - 50 * DAY + Math.floor((i * 50 * DAY) / BIG) })));
  const smallEnvs = small.flatMap((room, r) =>
    makeEnvelopes(Array.from({ length: PER_ROOM }, (_, i) => ({ roomId: room, senderId: owner.id, body: sentence(r * PER_ROOM + i), at: now - 30 * DAY + i * Math.floor((29 * DAY) / PER_ROOM) + r })), r % 1000),
  );
  const all = [...bigEnvs, ...smallEnvs];
  await writeCql(q.cql, q.keyspace, all, 16);
  console.log(`cassandra: ${all.length} messages loaded in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  t0 = performance.now();
  await writeEs(q.es, q.alias, all);
  console.log(`elasticsearch: ${all.length} messages loaded in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  console.log(`load: ${CONCURRENCY} in flight, ${REQUESTS} requests per scenario`);

  const search = async (room: string, word: string) => {
    const res = await fetch(`${q.http}/v1/rooms/${room}/search?q=${word}&limit=50`, { headers: { authorization: `Bearer ${owner.token}` } });
    if (res.status !== 200) throw new Error(String(res.status));
    await res.arrayBuffer();
  };
  await measure('warm-up', (i) => q.grpc.list(owner.token, { roomId: small[i % small.length]!, limit: 50 }));
  await measure(`gRPC latest-50, 1 room x ${BIG}`, () => q.grpc.list(owner.token, { roomId: big, limit: 50 }));
  await measure(`gRPC latest-50, ${ROOMS} rooms`, (i) => q.grpc.list(owner.token, { roomId: small[(i * 7919) % small.length]!, limit: 50 }));
  await measure(`gRPC before-page, 1 room x ${BIG}`, (i) => q.grpc.list(owner.token, { roomId: big, limit: 50, beforeId: bigEnvs[(i * 7919) % BIG]!.id }));
  await measure(`REST search, 1 room x ${BIG}`, (i) => search(big, WORDS[i % WORDS.length]!));
  await measure(`REST search, ${ROOMS} rooms`, (i) => search(small[(i * 7919) % small.length]!, WORDS[i % WORDS.length]!));
}

try {
  await main();
} finally {
  while (cleanups.length > 0) {
    try {
      await cleanups.pop()!();
    } catch {
      // best effort
    }
  }
}
