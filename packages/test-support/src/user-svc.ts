import { fileURLToPath } from 'node:url';
import { credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import { connectNats, createPostgres, quoteIdent, type ClientHandle } from '@parley/clients';
import { migratePostgres } from '@parley/migrate';
import type { RunningService } from '@parley/service';
import { userV1 } from '@parley/proto';
import { infra, uniqueName, freePort, startInTest, deferrer } from './index.js';
import type pg from 'pg';
import { userService } from '@parley/user-svc/app';

const root = fileURLToPath(new URL('../../../', import.meta.url));

type Defer = ReturnType<typeof deferrer>;

/** A fresh PostgreSQL schema with one component's migrations applied; dropped at cleanup. */
export async function migratedSchema(defer: Defer, component: 'user' | 'room'): Promise<{ schema: string; pg: ClientHandle<pg.Pool> }> {
  const schema = uniqueName(component);
  const admin = createPostgres({ url: infra.databaseUrl });
  await admin.client.query(`CREATE SCHEMA ${quoteIdent(schema)}`);
  defer(async () => {
    await admin.client.query(`DROP SCHEMA IF EXISTS ${quoteIdent(schema)} CASCADE`);
    await admin.close();
  });
  const handle = createPostgres({ url: infra.databaseUrl, schema });
  defer(() => handle.close());
  await migratePostgres({ pool: handle.client, component, dir: `${root}migrations/${component}`, direction: 'up' });
  return { schema, pg: handle };
}

export interface RunningUserSvc {
  http: string;
  grpcAddr: string;
  /** The fresh schema (USER_DB_SCHEMA); pass it back as an override to restart on the same data. */
  schema: string;
  pg: ClientHandle<pg.Pool>;
  redisPrefix: string;
  svc: RunningService;
  stderr: string[];
  /** Where logouts are announced: SESSION_EVENTS_PREFIX and SESSION_EVENTS_STREAM. */
  sessionEvents: { prefix: string; stream: string };
}

export async function startUserSvc(defer: Defer, overrides: Record<string, string> = {}): Promise<RunningUserSvc> {
  const { schema, pg } = await migratedSchema(defer, 'user');
  const [httpPort, grpcPort] = [await freePort(), await freePort()];
  const redisPrefix = `${uniqueName('u')}:`;
  const sessionEvents = { prefix: uniqueName('sess'), stream: uniqueName('SESSION_EVENTS') };
  defer(async () => {
    const nats = await connectNats({ url: infra.natsUrl, name: 'user-svc-test-cleanup' });
    await nats.client.jsm.streams.delete(sessionEvents.stream).catch(() => undefined);
    await nats.close();
  });
  const env = {
    DATABASE_URL: infra.databaseUrl,
    REDIS_URL: infra.redisUrl,
    USER_DB_SCHEMA: schema,
    USER_REDIS_PREFIX: redisPrefix,
    USER_HTTP_PORT: String(httpPort),
    USER_GRPC_PORT: String(grpcPort),
    USER_SCRYPT_LOG_N: '12',
    NATS_URL: infra.natsUrl,
    SESSION_EVENTS_PREFIX: sessionEvents.prefix,
    SESSION_EVENTS_STREAM: sessionEvents.stream,
    LOG_LEVEL: 'silent',
    ...overrides,
  };
  const { svc, stderr } = await startInTest(defer, userService, env);
  return { http: `http://127.0.0.1:${httpPort}`, grpcAddr: `127.0.0.1:${grpcPort}`, schema, pg, redisPrefix, svc, stderr, sessionEvents };
}

export function userGrpcClient(defer: Defer, addr: string) {
  const client = new userV1.UserServiceClient(addr, credentials.createInsecure());
  defer(() => client.close());
  return {
    validateSession: (token: string) =>
      new Promise<userV1.ValidateSessionResponse>((resolve, reject) => {
        client.validateSession({ token }, new Metadata(), { deadline: Date.now() + 5000 }, (err: ServiceError | null, res?: userV1.ValidateSessionResponse) => (err ? reject(err) : resolve(res!)));
      }),
    getUser: (userId: string) =>
      new Promise<userV1.GetUserResponse>((resolve, reject) => {
        client.getUser({ userId }, new Metadata(), { deadline: Date.now() + 5000 }, (err: ServiceError | null, res?: userV1.GetUserResponse) => (err ? reject(err) : resolve(res!)));
      }),
  };
}

/** fetch + JSON, returning status, headers and parsed body (or text when not JSON). */
export async function call(base: string, method: string, path: string, opts: { body?: unknown; raw?: string | Buffer; token?: string; headers?: Record<string, string> } = {}) {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token) headers['authorization'] = `Bearer ${opts.token}`;
  let body: string | Buffer | undefined;
  if (opts.raw !== undefined) body = opts.raw;
  else if (opts.body !== undefined) body = JSON.stringify(opts.body);
  if (body !== undefined && !headers['content-type']) headers['content-type'] = 'application/json';
  const res = await fetch(`${base}${path}`, { method, headers, ...(body !== undefined ? { body } : {}) });
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = text;
  }
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  return { status: res.status, headers: res.headers, body: json as any };
}

/** Registers and logs in a fresh user; returns its token and id. */
export async function newUser(base: string, name = uniqueName('u').slice(0, 30)): Promise<{ token: string; id: string; username: string }> {
  const password = 'correct horse battery';
  const reg = await call(base, 'POST', '/v1/users', { body: { username: name, password } });
  if (reg.status !== 201) throw new Error(`register ${reg.status} ${JSON.stringify(reg.body)}`);
  const login = await call(base, 'POST', '/v1/sessions', { body: { username: name, password } });
  if (login.status !== 201) throw new Error(`login ${login.status} ${JSON.stringify(login.body)}`);
  return { token: login.body.token, id: login.body.user.id, username: name };
}
