import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import { createCassandra, createElastic, quoteIdent } from '@parley/clients';
import { migrateCassandra, installElasticTemplates, removeElasticTemplates, elasticNames } from '@parley/migrate';
import { chatV1 } from '@parley/proto';
import { eventually, infra, uniqueName, freePort, startInTest, type deferrer } from './index.js';
import { startUserSvc, call, newUser } from './user-svc.js';
import { roomNames, startRoomSvc } from './room-svc.js';
import { queryService } from '@parley/chat-query-svc/app';
import { readPage, type PartitionReader, type StoredMessage } from '@parley/chat-query-svc/bucket-walk';
import { buildSearchBody, type SearchRequest } from '@parley/chat-query-svc/elastic-message-search';
import { parseSearchText } from '@parley/chat-query-svc/search-text';
import { long, MessageTables } from '@parley/message-store';
import type cassandra from 'cassandra-driver';
import type { Client as EsClient } from '@elastic/elasticsearch';

type Defer = ReturnType<typeof deferrer>;
const cqlDir = fileURLToPath(new URL('../../../cql', import.meta.url));

export { call, newUser };

/** A fresh keyspace and ES prefix, with the real schema and template; dropped at cleanup. */
export async function stores(defer: Defer) {
  const keyspace = uniqueName('q');
  const esPrefix = uniqueName('q');
  const cql = createCassandra({ contactPoints: infra.cassandraContactPoints, localDataCenter: infra.cassandraLocalDc });
  defer(() => cql.close());
  defer(() => cql.client.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`));
  await migrateCassandra({ client: cql.client, keyspace, dir: cqlDir, direction: 'up' });
  const es = createElastic({ url: infra.elasticsearchUrl });
  defer(() => es.close());
  defer(() => removeElasticTemplates(es.client, esPrefix));
  await installElasticTemplates(es.client, esPrefix);
  return { keyspace, esPrefix, cql: cql.client, es: es.client, alias: elasticNames(esPrefix).alias };
}

/** chat-query-svc's environment on the stores of `s`, calling the given user-svc and room-svc. */
export function queryEnv(
  s: { keyspace: string; esPrefix: string },
  userGrpc: string,
  roomGrpc: string,
  httpPort: number,
  grpcPort: number,
  events?: { prefix: string; stream: string },
): Record<string, string> {
  return {
    NATS_URL: infra.natsUrl,
    ...(events ? { ROOM_EVENTS_PREFIX: events.prefix, ROOM_EVENTS_STREAM: events.stream } : { QUERY_MEMBERSHIP_CACHE_MS: '0' }),
    CASSANDRA_CONTACT_POINTS: infra.cassandraContactPoints.join(','),
    CASSANDRA_LOCAL_DC: infra.cassandraLocalDc,
    CASSANDRA_KEYSPACE: s.keyspace,
    ELASTICSEARCH_URL: infra.elasticsearchUrl,
    ELASTICSEARCH_INDEX_PREFIX: s.esPrefix,
    USER_SVC_GRPC_ADDR: userGrpc,
    ROOM_SVC_GRPC_ADDR: roomGrpc,
    QUERY_HTTP_PORT: String(httpPort),
    QUERY_GRPC_PORT: String(grpcPort),
  };
}

/**
 * user-svc, room-svc and chat-query-svc on random ports and names, all in this process, or
 * with `ownProcess` chat-query-svc as a process of its own (cmd/chat-query-svc/main.ts), so a
 * bench's load generator does not share its event loop (its stderr is then passed through).
 */
export async function startAll(defer: Defer, overrides: Record<string, string> = {}, opts: { ownProcess?: boolean } = {}) {
  const s = await stores(defer);
  const users = await startUserSvc(defer);
  const names = await roomNames(defer);
  const rooms = await startRoomSvc(defer, names, users.grpcAddr);
  const [httpPort, grpcPort] = [await freePort(), await freePort()];
  const env = { ...queryEnv(s, users.grpcAddr, rooms.grpcAddr, httpPort, grpcPort, names), LOG_LEVEL: process.env['TEST_LOG_LEVEL'] ?? 'silent', ...overrides };
  const http = `http://127.0.0.1:${httpPort}`;
  const stderr = opts.ownProcess ? (await spawnQuery(defer, env, http), []) : (await startInTest(defer, queryService, env)).stderr;
  const grpc = queryGrpcClient(defer, `127.0.0.1:${grpcPort}`);
  /** A room owned by a fresh user; `createdAt` moves its creation time (messages from the past). */
  const newRoom = async (owner: { token: string }, createdAt?: Date): Promise<string> => {
    const res = await call(rooms.http, 'POST', '/v1/rooms', { token: owner.token, body: { name: 'r', visibility: 'private' } });
    if (res.status !== 201) throw new Error(`create room ${res.status}`);
    const id: string = res.body.room.id;
    if (createdAt) await names.pg.client.query(`UPDATE ${quoteIdent(names.schema)}.rooms SET created_at = $2 WHERE id = $1`, [id, createdAt]);
    return id;
  };
  return { ...s, users, rooms, http, grpc, grpcAddr: `127.0.0.1:${grpcPort}`, newRoom, stderr };
}

export function queryGrpcClient(defer: Defer, addr: string) {
  const client = new chatV1.ChatQueryServiceClient(addr, credentials.createInsecure());
  defer(() => client.close());
  return {
    list: (token: string | undefined, req: Partial<chatV1.ListMessagesRequest>) =>
      new Promise<chatV1.ListMessagesResponse>((resolve, reject) => {
        const md = new Metadata();
        if (token !== undefined) md.set('authorization', `Bearer ${token}`);
        const full = { roomId: '', limit: 0, beforeId: '', afterId: '', changesAfterId: '', ...req };
        client.listMessages(full, md, { deadline: Date.now() + 15_000 }, (err: ServiceError | null, res?: chatV1.ListMessagesResponse) => (err ? reject(err) : resolve(res!)));
      }),
  };
}

// chat-query-svc's defaults, which the direct reads below must match.
const SKEW_MS = Number(queryService.spec.clockSkewMs.default);
const MAX_QUERY_CHARS = Number(queryService.spec.maxQueryChars.default);

/**
 * The stores' side of chat-query-svc's reads with nothing around them: the same prepared CQL on
 * the same partitions in the same walk (bucket-walk.ts), and the same search body sent straight
 * to Elasticsearch. What a benchmark measures here is the ceiling the service can approach.
 */
export function directReads(s: { cql: cassandra.Client; keyspace: string; es: EsClient; alias: string }) {
  const tables = new MessageTables(s.keyspace);
  // Rows as the driver returns them: no state computed, nothing converted.
  const raw: PartitionReader = {
    async read(roomId, bucket, dir, bound, limit) {
      const rs = await s.cql.execute(dir === 'older' ? tables.selectOlder : tables.selectNewer, [roomId, bucket, long(bound), limit], { prepare: true, isIdempotent: true, fetchSize: limit });
      return rs.rows as unknown as StoredMessage[];
    },
  };
  return {
    latest: (roomId: string, roomCreatedAtMs: number, limit: number, beforeId?: bigint) =>
      readPage(raw, { roomId, limit, beforeId }, { roomCreatedAtMs, nowMs: Date.now(), skewMs: SKEW_MS }),
    /** What GET /v1/rooms/:roomId/search?q=<q>&limit=<limit> asks Elasticsearch. */
    search: (roomId: string, q: string, limit: number) => {
      const req: SearchRequest = { roomId, text: parseSearchText(q, MAX_QUERY_CHARS), order: 'newest', limit };
      return s.es.search({ index: s.alias, ...buildSearchBody(req) });
    },
  };
}

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

async function spawnQuery(defer: Defer, env: Record<string, string>, http: string): Promise<void> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'cmd/chat-query-svc/main.ts'], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'inherit'] });
  defer(
    () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  );
  await eventually(async () => {
    if (child.exitCode !== null) throw new Error(`chat-query-svc exited with ${child.exitCode}`);
    return (await fetch(`${http}/readyz`).catch(() => undefined))?.ok;
  }, 60_000, 200);
}
