/**
 * The whole system for browser tests, on random ports and names: user-svc, room-svc,
 * chat-query-svc, the write path (ingestion, CQL and Elasticsearch workers) and the gateway in
 * this process; the WebSocket edge as a child process, so a test can kill it for real.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { connectNats } from '@parley/clients';
import { startService, type RunningService, type ServiceDefinition } from '@parley/service';
import type { ConfigSpec } from '@parley/config';
import { infra, uniqueName, freePort, eventually, startInTest, type deferrer } from '@parley/test-support';
import { queryEnv, stores } from '@parley/test-support/query-svc';
import { startUserSvc } from '@parley/test-support/user-svc';
import { roomNames, startRoomSvc } from '@parley/test-support/room-svc';
import { pipelineNames, pipelineEnv, runService, createTopics } from '@parley/test-support/pipeline';
import { queryService } from '@parley/chat-query-svc/app';
import { ingestionService } from '@parley/chat-ingestion-svc/app';
import { cqlCommandService } from '@parley/chat-command-cql-svc/app';
import { elasticCommandService } from '@parley/chat-command-elastic-svc/app';
import { webGatewayService } from '../app.js';

type Defer = ReturnType<typeof deferrer>;
export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const logLevel = process.env['TEST_LOG_LEVEL'] ?? 'silent';

/** Starts a service definition in this process and registers its shutdown. */
async function inProcess<S extends ConfigSpec>(defer: Defer, def: ServiceDefinition<S>, env: Record<string, string>): Promise<void> {
  await startInTest(defer, def, { LOG_LEVEL: logLevel, ...env });
}

export interface Edge {
  /** SIGKILL: no goodbye to clients, no drain. */
  kill(): Promise<void>;
  start(): Promise<void>;
}

/** chat-realtime-svc as a child process on a fixed port, so a restart lands where the gateway points. */
function edgeProcess(defer: Defer, env: Record<string, string>): Edge {
  let child: ChildProcess | undefined;
  const kill = async () => {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null) return;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill('SIGKILL');
    await exited;
  };
  defer(kill);
  return {
    kill,
    start: async () => {
      const c = spawn(process.execPath, ['--import', 'tsx', 'cmd/chat-realtime-svc/main.ts'], { cwd: repoRoot, env: { ...process.env, ...env, LOG_LEVEL: 'info' }, stdio: ['ignore', 'pipe', 'pipe'] });
      child = c;
      const tail: string[] = [];
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`edge not ready in 60 s:\n${tail.join('')}`)), 60_000);
        const onData = (chunk: Buffer) => {
          const text = String(chunk);
          tail.push(text);
          if (tail.length > 50) tail.shift();
          if (text.includes('"msg":"service ready"')) {
            clearTimeout(timer);
            resolve();
          }
        };
        c.stdout!.on('data', onData);
        c.stderr!.on('data', onData);
        c.once('exit', (code) => {
          clearTimeout(timer);
          reject(new Error(`edge exited with ${code}:\n${tail.join('')}`));
        });
      });
      c.removeAllListeners('exit');
    },
  };
}

/** The gateway serves web/dist: build it when a source is newer (`make web` is a no-op otherwise). */
export function ensureWebBuilt(): void {
  execFileSync('make', ['--no-print-directory', '-s', 'web'], { cwd: repoRoot, stdio: ['ignore', 'inherit', 'inherit'], timeout: 180_000 });
}

export async function startStack(defer: Defer, opts: { historyLimit: number; sendsPerUser: number }) {
  ensureWebBuilt();
  const s = await stores(defer);
  const users = await startUserSvc(defer);
  const rn = await roomNames(defer);
  const rooms = await startRoomSvc(defer, rn, users.grpcAddr);
  const queryGrpc = await freePort();
  const queryHttp = await freePort();
  await inProcess(defer, queryService, queryEnv(s, users.grpcAddr, rooms.grpcAddr, queryHttp, queryGrpc));

  const names = { ...pipelineNames(), keyspace: s.keyspace, esPrefix: s.esPrefix };
  const topics = await createTopics(names);
  defer(topics.drop);
  const nats = await connectNats({ url: infra.natsUrl, name: 'web-e2e' });
  defer(() => nats.close());
  defer(() => nats.client.jsm.streams.delete(names.stream).catch(() => undefined));
  const env = pipelineEnv(names, { KAFKA_TOPIC_PARTITIONS: '1' });
  const cql = await runService(cqlCommandService, { ...env, KAFKA_GROUP_ID: names.cqlGroup });
  defer(() => cql.stop());
  const search = await runService(elasticCommandService, { ...env, KAFKA_GROUP_ID: names.esGroup });
  defer(() => search.stop());
  const ingestion = await runService(ingestionService, env);
  defer(() => ingestion.stop());

  const leaseBucket = uniqueName('web_lease');
  defer(() => nats.client.jsm.streams.delete(`KV_${leaseBucket}`).catch(() => undefined));
  const edgePort = await freePort();
  const edge = edgeProcess(defer, {
    NATS_URL: infra.natsUrl,
    REDIS_URL: infra.redisUrl,
    REALTIME_PORT: String(edgePort),
    USER_SVC_GRPC_ADDR: users.grpcAddr,
    ROOM_SVC_GRPC_ADDR: rooms.grpcAddr,
    QUERY_SVC_GRPC_ADDR: `127.0.0.1:${queryGrpc}`,
    NATS_STREAM: names.stream,
    NATS_SUBJECT_PREFIX: names.prefix,
    ROOM_EVENTS_PREFIX: rn.prefix,
    ROOM_EVENTS_STREAM: rn.stream,
    SESSION_EVENTS_PREFIX: users.sessionEvents.prefix,
    SESSION_EVENTS_STREAM: users.sessionEvents.stream,
    REALTIME_LEASE_BUCKET: leaseBucket,
    REALTIME_REDIS_PREFIX: `${uniqueName('web')}:`,
    REALTIME_HISTORY_LIMIT: String(opts.historyLimit),
    REALTIME_SENDS_PER_USER: String(opts.sendsPerUser),
  });
  await edge.start();

  const gatewayEnv = {
    WEB_USER_SVC_URL: users.http,
    WEB_ROOM_SVC_URL: rooms.http,
    WEB_QUERY_SVC_URL: `http://127.0.0.1:${queryHttp}`,
    WEB_REALTIME_URL: `http://127.0.0.1:${edgePort}`,
  };
  /** A gateway that can be stopped and started again on its port (a second origin for one user). */
  const gateway = async (): Promise<Gateway> => {
    const port = await freePort();
    let svc: RunningService | undefined;
    const stop = async () => {
      const s = svc;
      svc = undefined;
      if (!s) return;
      s.shutdown('test');
      await s.done;
    };
    defer(stop);
    const start = async () => {
      svc = await startService(webGatewayService, { LOG_LEVEL: logLevel, ...gatewayEnv, WEB_PORT: String(port) }, () => undefined);
    };
    await start();
    const base = `http://127.0.0.1:${port}`;
    await eventually(async () => (await fetch(`${base}/healthz`)).ok);
    return { base, stop, start };
  };
  return { edge, gateway };
}

export interface Gateway {
  base: string;
  stop(): Promise<void>;
  start(): Promise<void>;
}
