/**
 * The whole of Parley as separate processes, exactly as `make up` runs it (`cmd/<svc>/main.ts`),
 * but on random ports and with random names for everything it stores: PostgreSQL schemas, NATS
 * streams and subjects, Kafka topics and groups, the Cassandra keyspace, the ES index prefix and
 * the Redis key prefixes. Several systems can run side by side with the real one and with each
 * other; `stop()` removes everything they created.
 *
 * Used by the end-to-end test (e2e/test-int) and the failure drill (scripts/drill.ts), which
 * needs real processes to SIGKILL.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { RestClient, type RestEndpoints, type User } from '@parley/client';
import { connectNats, createElastic, createRedis } from '@parley/clients';
import { installElasticTemplates, removeElasticTemplates } from '@parley/migrate';
import { infra, freePort, uniqueName } from '@parley/test-support';
import { migratedSchema } from '@parley/test-support/user-svc';
import { createTopics, migratedKeyspace, pipelineNames, type PipelineNames } from '@parley/test-support/pipeline';

const root = fileURLToPath(new URL('../', import.meta.url));

export const SERVICES = ['user-svc', 'room-svc', 'chat-query-svc', 'chat-ingestion-svc', 'chat-command-cql-svc', 'chat-command-elastic-svc', 'chat-realtime-svc'] as const;
export type ServiceName = (typeof SERVICES)[number];

export interface SystemOptions {
  /** Number of edge instances (chat-realtime-svc), each its own process and port. */
  edges?: number;
  /** Extra environment for every process (rate limits for a load test, log level). */
  env?: Record<string, string>;
  /** Where each process logs (`<dir>/<svc>[-<n>].log`). */
  logDir?: string;
  /** Restart a process that exits on its own, as a supervisor (systemd, Kubernetes) would. */
  supervise?: boolean;
  onEvent?: (text: string) => void;
  /** A NATS or Redis other than the shared ones (the drill restarts private servers). */
  natsUrl?: string;
  redisUrl?: string;
}

/** One running process of a service; `key` is the service name, with `-<n>` for edges. */
export interface Proc {
  key: string;
  svc: ServiceName;
  env: Record<string, string>;
  child: ChildProcess | undefined;
  restarts: number;
  exits: number;
}

export interface Urls {
  user: string;
  room: string;
  query: string;
  queryGrpc: string;
  edges: string[];
}

export type System = Awaited<ReturnType<typeof startSystem>>;

/** A user of the system as a chat client holds one: its REST client carries its token. */
export interface Member {
  rest: RestClient;
  user: User;
  token: string;
}

const PASSWORD = 'correct horse battery';
/** The operator token of a test system's chat-query-svc (POST /v1/admin/erasures). */
export const ADMIN_TOKEN = `admin-${uniqueName('t')}`;

/** Registers and logs in a fresh user over REST, as a client does (@parley/client). */
export async function signUp(endpoints: RestEndpoints, name = uniqueName('u').slice(0, 30)): Promise<Member> {
  const rest = new RestClient({ endpoints });
  await rest.register(name, PASSWORD);
  const session = await rest.login(name, PASSWORD);
  return { rest, user: session.user, token: session.token };
}

export async function startSystem(opts: SystemOptions = {}) {
  const cleanups: Array<() => unknown> = [];
  const defer = (fn: () => unknown) => void cleanups.push(fn);
  const stopAll = async () => {
    while (cleanups.length > 0) await Promise.resolve().then(cleanups.pop()!).catch(() => undefined);
  };
  try {
    return await build(opts, defer, stopAll);
  } catch (err) {
    await stopAll();
    throw err;
  }
}

async function build(opts: SystemOptions, defer: (fn: () => unknown) => void, stopAll: () => Promise<void>) {
  const logDir = opts.logDir ?? `/tmp/parley-system-${uniqueName('run')}`;
  mkdirSync(logDir, { recursive: true });
  const names = pipelineNames();
  const natsUrl = opts.natsUrl ?? infra.natsUrl;
  const redisUrl = opts.redisUrl ?? infra.redisUrl;
  const nats = await connectNats({ url: natsUrl, name: 'parley-system' });
  defer(() => nats.close());
  const events = { prefix: `${uniqueName('evt')}.events`, stream: uniqueName('ROOM_EVENTS') };
  const lease = uniqueName('lease');
  for (const stream of [names.stream, events.stream, `KV_${lease}`]) defer(() => nats.client.jsm.streams.delete(stream));
  const userSchema = await migratedSchema(defer, 'user');
  const roomSchema = await migratedSchema(defer, 'room');
  const ks = await migratedKeyspace(names.keyspace);
  defer(ks.drop);
  const es = createElastic({ url: infra.elasticsearchUrl });
  defer(() => es.close());
  defer(() => removeElasticTemplates(es.client, names.esPrefix));
  await installElasticTemplates(es.client, names.esPrefix);
  const topics = await createTopics(names);
  defer(topics.drop);
  const redisPrefixes = { user: `${uniqueName('u')}:`, rt: `${uniqueName('rt')}:` };
  defer(() => dropRedisKeys(redisUrl, Object.values(redisPrefixes)));

  const [userHttp, userGrpc, roomHttp, roomGrpc, queryHttp, queryGrpc] = await Promise.all(Array.from({ length: 6 }, () => freePort()));
  const edgePorts = await Promise.all(Array.from({ length: opts.edges ?? 1 }, () => freePort()));
  const base: Record<string, string> = {
    PATH: process.env['PATH'] ?? '',
    NATS_URL: natsUrl,
    KAFKA_BROKERS: infra.kafkaBrokers.join(','),
    CASSANDRA_CONTACT_POINTS: infra.cassandraContactPoints.join(','),
    CASSANDRA_LOCAL_DC: infra.cassandraLocalDc,
    CASSANDRA_KEYSPACE: names.keyspace,
    ELASTICSEARCH_URL: infra.elasticsearchUrl,
    ELASTICSEARCH_INDEX_PREFIX: names.esPrefix,
    DATABASE_URL: infra.databaseUrl,
    REDIS_URL: redisUrl,
    USER_DB_SCHEMA: userSchema.schema,
    USER_REDIS_PREFIX: redisPrefixes.user,
    USER_HTTP_PORT: String(userHttp),
    USER_GRPC_PORT: String(userGrpc),
    USER_SCRYPT_LOG_N: '12',
    ROOM_DB_SCHEMA: roomSchema.schema,
    ROOM_EVENTS_PREFIX: events.prefix,
    ROOM_EVENTS_STREAM: events.stream,
    ROOM_HTTP_PORT: String(roomHttp),
    ROOM_GRPC_PORT: String(roomGrpc),
    ROOM_OUTBOX_POLL_MS: '50',
    QUERY_HTTP_PORT: String(queryHttp),
    QUERY_ADMIN_TOKEN: ADMIN_TOKEN,
    QUERY_GRPC_PORT: String(queryGrpc),
    USER_SVC_GRPC_ADDR: `127.0.0.1:${userGrpc}`,
    ROOM_SVC_GRPC_ADDR: `127.0.0.1:${roomGrpc}`,
    QUERY_SVC_GRPC_ADDR: `127.0.0.1:${queryGrpc}`,
    NATS_STREAM: names.stream,
    NATS_SUBJECT_PREFIX: names.prefix,
    INGESTION_DURABLE: names.durable,
    KAFKA_TOPIC: names.topic,
    KAFKA_DLQ_TOPIC: names.dlqTopic,
    KAFKA_TOPIC_PARTITIONS: '3',
    REALTIME_LEASE_BUCKET: lease,
    REALTIME_REDIS_PREFIX: redisPrefixes.rt,
    LOG_LEVEL: 'info',
    ...opts.env,
  };
  const own: Record<ServiceName, Array<Record<string, string>>> = {
    'user-svc': [{}],
    'room-svc': [{}],
    'chat-query-svc': [{}],
    'chat-ingestion-svc': [{}],
    'chat-command-cql-svc': [{ KAFKA_GROUP_ID: names.cqlGroup }],
    'chat-command-elastic-svc': [{ KAFKA_GROUP_ID: names.esGroup }],
    'chat-realtime-svc': edgePorts.map((p) => ({ REALTIME_PORT: String(p) })),
  };
  const procs: Proc[] = SERVICES.flatMap((svc) =>
    own[svc].map((extra, i) => ({ key: own[svc].length > 1 ? `${svc}-${i}` : svc, svc, env: { ...base, ...extra }, child: undefined, restarts: 0, exits: 0 })),
  );
  const runner = new ProcessRunner(logDir, opts.supervise ?? false, opts.onEvent ?? (() => undefined));
  defer(() => runner.stopAll(procs));
  // gRPC clients connect lazily, so only the edges (which answer users at once) wait for the rest.
  await Promise.all(procs.filter((p) => p.svc !== 'chat-realtime-svc').map((p) => runner.start(p)));
  await Promise.all(procs.filter((p) => p.svc === 'chat-realtime-svc').map((p) => runner.start(p)));

  const urls: Urls = {
    user: `http://127.0.0.1:${userHttp}`,
    room: `http://127.0.0.1:${roomHttp}`,
    query: `http://127.0.0.1:${queryHttp}`,
    queryGrpc: `127.0.0.1:${queryGrpc}`,
    edges: edgePorts.map((p) => `ws://127.0.0.1:${p}`),
  };
  const endpoints: RestEndpoints = { users: urls.user, rooms: urls.room, query: urls.query };
  return {
    urls,
    /** The three REST services, for @parley/client's RestClient. */
    endpoints,
    /** A fresh user, signed in (`member.rest` holds the token). */
    signUp: (name?: string) => signUp(endpoints, name),
    /** A REST client with `token`, or with none (to be refused). */
    rest: (token?: string) => new RestClient({ endpoints, ...(token ? { token } : {}) }),
    names: names as PipelineNames,
    adminToken: ADMIN_TOKEN,
    procs,
    logDir,
    cassandra: ks.client,
    elastic: es.client,
    /** The test's own NATS connection (the test user): streams can be inspected and reshaped. */
    nats: nats.client,
    /** SIGKILL a process and wait until it is gone (a supervised one is not restarted). */
    kill: (key: string) => runner.kill(find(procs, key)),
    start: (key: string) => runner.start(find(procs, key)),
    stop: stopAll,
  };
}

function find(procs: Proc[], key: string): Proc {
  const p = procs.find((x) => x.key === key);
  if (!p) throw new Error(`no process ${key}; have ${procs.map((x) => x.key).join(', ')}`);
  return p;
}

async function dropRedisKeys(url: string, prefixes: string[]): Promise<void> {
  const redis = createRedis({ url });
  try {
    await redis.health();
    for (const prefix of prefixes) {
      const keys = await redis.client.keys(`${prefix}*`);
      if (keys.length > 0) await redis.client.del(...keys);
    }
  } finally {
    await redis.close();
  }
}

/** Starts `node --import tsx cmd/<svc>/main.ts` processes and tells when each is ready. */
class ProcessRunner {
  private readonly logs = new Map<string, WriteStream>();
  private readonly killing = new Set<Proc>();
  private stopping = false;

  constructor(
    private readonly logDir: string,
    private readonly supervise: boolean,
    private readonly onEvent: (text: string) => void,
  ) {}

  /** Resolves once the process logged "service ready"; rejects if it exits before. */
  start(p: Proc, timeoutMs = 90_000): Promise<void> {
    const out = this.log(p.key);
    const child = spawn(process.execPath, ['--import', 'tsx', `cmd/${p.svc}/main.ts`], { cwd: root, env: p.env, stdio: ['ignore', 'pipe', 'pipe'] });
    p.child = child;
    return new Promise((resolve, reject) => {
      let seen = '';
      let ready = false;
      const timer = setTimeout(() => reject(new Error(`${p.key} not ready within ${timeoutMs} ms (see ${this.logDir}/${p.key}.log)`)), timeoutMs);
      const watch = (d: Buffer) => {
        out.write(d);
        if (ready) return;
        seen = (seen + d.toString()).slice(-4096);
        if (seen.includes('"msg":"service ready"')) {
          ready = true;
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout!.on('data', watch);
      child.stderr!.on('data', watch);
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        if (!ready) reject(new Error(`${p.key} exited (${code ?? signal}) before ready (see ${this.logDir}/${p.key}.log)`));
        else this.exited(p, child, code, signal);
      });
    });
  }

  async kill(p: Proc): Promise<void> {
    const child = p.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    this.killing.add(p);
    const gone = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await gone;
    this.killing.delete(p);
  }

  async stopAll(procs: Proc[]): Promise<void> {
    this.stopping = true;
    await Promise.all(
      [...procs].reverse().map(async (p) => {
        const child = p.child;
        if (!child || child.exitCode !== null || child.signalCode !== null) return;
        const gone = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 20_000);
        await gone;
        clearTimeout(t);
      }),
    );
    for (const l of this.logs.values()) l.end();
  }

  private exited(p: Proc, child: ChildProcess, code: number | null, signal: string | null): void {
    if (this.stopping || this.killing.has(p) || p.child !== child) return;
    p.exits++;
    this.onEvent(`${p.key} exited on its own (${code ?? signal})${this.supervise ? '; restarting' : ''}`);
    if (!this.supervise) return;
    const again = async (): Promise<void> => {
      await new Promise((r) => setTimeout(r, 1000));
      if (this.stopping) return;
      p.restarts++;
      await this.start(p).catch((err: unknown) => {
        this.onEvent(`${p.key} restart failed: ${(err as Error).message}`);
        if (p.child?.exitCode === null) return undefined;
        return again();
      });
    };
    void again();
  }

  private log(key: string): WriteStream {
    let l = this.logs.get(key);
    if (!l) {
      l = createWriteStream(`${this.logDir}/${key}.log`, { flags: 'a' });
      this.logs.set(key, l);
    }
    return l;
  }
}
