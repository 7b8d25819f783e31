import { randomBytes, randomInt } from 'node:crypto';
import { createServer } from 'node:net';
import {
  parseConfig,
  natsFields,
  kafkaFields,
  cassandraFields,
  elasticFields,
  postgresFields,
  redisFields,
} from '@parley/config';

/**
 * The project's NATS (scripts/infra.sh, docker-compose) as its `test` user: tests use random
 * subjects, streams and buckets, so they need that user's broad permissions (infra/nats/nats.conf).
 * The machine's own NATS on 4222 is not it.
 */
const TEST_NATS_URL = `nats://test:local-dev-test@127.0.0.1:${process.env['PARLEY_NATS_PORT'] || '4322'}`;

/**
 * Where integration tests find the real servers: the same env names and defaults as the
 * services, so `make test` against `make infra-up` needs no extra setup. NATS_URL overrides
 * the NATS default above, as the other variables override theirs.
 */
export const infra = parseConfig(
  { ...natsFields, ...kafkaFields, ...cassandraFields, ...elasticFields, ...postgresFields, ...redisFields },
  { ...process.env, NATS_URL: process.env['NATS_URL'] || TEST_NATS_URL },
);

/**
 * A name no other test run uses: lower-case so it is valid as a PostgreSQL schema, CQL
 * keyspace, Kafka topic, ES index and NATS subject token alike.
 */
export function uniqueName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
}

/**
 * Where test ports come from: below Linux's ephemeral range (32768-60999), so no outgoing
 * connection of any process can take a port between the pick and its server's bind (a port
 * the OS hands out for bind(0) is one outgoing connections draw from too).
 */
const PORT_LOW = 10_000;
const PORT_HIGH = 32_000;
const picked = new Set<number>();

/**
 * A TCP port nothing listens on right now: a random one of PORT_LOW..PORT_HIGH that this process
 * has not handed out before and that binds on 127.0.0.1.
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = PORT_LOW + randomInt(PORT_HIGH - PORT_LOW);
    if (picked.has(port)) continue;
    if (await bindable(port)) {
      picked.add(port);
      return port;
    }
  }
  throw new Error(`no free port in ${PORT_LOW}-${PORT_HIGH} after 100 tries`);
}

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/** Polls `fn` until it returns a truthy value or `timeoutMs` passes; returns the value. */
export async function eventually<T>(fn: () => Promise<T | undefined | null | false>, timeoutMs = 15_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastErr: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      lastErr = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`condition not met within ${timeoutMs} ms${lastErr ? `: ${(lastErr as Error).message}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

interface HasAfter {
  after(fn: () => unknown): void;
}

/**
 * node:test runs `t.after` hooks in registration order; releasing resources needs the
 * reverse (drop the stream before closing the connection). `defer(t)` gives a LIFO stack.
 */
export function deferrer(t: HasAfter): (fn: () => unknown) => void {
  const stack: Array<() => unknown> = [];
  t.after(async () => {
    while (stack.length > 0) {
      const fn = stack.pop()!;
      try {
        await fn();
      } catch {
        // Cleanup failures must not hide the test's own result.
      }
    }
  });
  return (fn) => {
    stack.push(fn);
  };
}
export { natsRelay, startPrivateNats } from './private-nats.js';

/**
 * How many gRPC calls a service has served whose method contains `method`, from its own
 * Prometheus counter (`parley_grpc_server_requests_total`, every code) on `<http>/metrics`.
 */
export async function grpcServerCalls(http: string, method: string): Promise<number> {
  const text = await (await fetch(`${http}/metrics`)).text();
  let n = 0;
  for (const line of text.split('\n')) if (line.startsWith('parley_grpc_server_requests_total{') && line.includes(method)) n += Number(line.split(' ').at(-1));
  return n;
}

/** Polls an HTTP endpoint until it answers `status`; returns the JSON body of that answer. */
export async function untilStatus<T = unknown>(url: string, status: number, timeoutMs = 15_000): Promise<T> {
  return eventually(async () => {
    const r = await fetch(url);
    return r.status === status ? ((await r.json()) as T) : undefined;
  }, timeoutMs, 250);
}
export { startInTest, type InTestService } from './in-process.js';
