import { test } from 'node:test';
import assert from 'node:assert/strict';
import { credentials } from '@grpc/grpc-js';
import { ParleyError } from '@parley/errors';
import { silentLogger } from '@parley/log';
import { createMetricsRegistry } from '@parley/metrics';
import { grpcComponent, unary, userV1 } from '../src/index.js';

test('each unary call is counted by method and status code, and timed', async (t) => {
  const log = silentLogger();
  const metrics = createMetricsRegistry('test-svc');
  const implementation: userV1.UserServiceServer = {
    validateSession: unary(log, 'ValidateSession', async () => ({ user: { id: 'u', username: 'u', displayName: 'U' }, cacheUntilMs: 0, expiresAtMs: 0 })),
    getUser: unary(log, 'GetUser', async () => {
      throw new ParleyError('NOT_FOUND', 'user not found');
    }),
    findUsers: unary(log, 'FindUsers', async () => ({ users: [] })),
  };
  const server = grpcComponent('grpc', { services: [{ definition: userV1.UserServiceService, implementation }], host: '127.0.0.1', port: 0, log, metrics });
  await server.start(new AbortController().signal);
  t.after(() => server.stop(AbortSignal.timeout(1000)));
  const client = new userV1.UserServiceClient(`127.0.0.1:${server.port()}`, credentials.createInsecure());
  t.after(() => client.close());
  const call = <Req, Res>(fn: (req: Req, cb: (err: Error | null, res?: Res) => void) => unknown, req: Req) =>
    new Promise<Error | null>((resolve) => void fn.call(client, req, (err) => resolve(err)));
  assert.equal(await call(client.validateSession, { token: 'x' }), null);
  assert.equal(await call(client.validateSession, { token: 'y' }), null);
  assert.notEqual(await call(client.getUser, { userId: 'nobody' }), null);

  const counts = await metrics.getSingleMetric('parley_grpc_server_requests_total')!.get();
  const byLabels = Object.fromEntries(counts.values.map((v) => [`${v.labels['method']} ${v.labels['code']}`, v.value]));
  assert.deepEqual(byLabels, { '/parley.user.v1.UserService/ValidateSession OK': 2, '/parley.user.v1.UserService/GetUser NOT_FOUND': 1 });
  const text = await metrics.metrics();
  assert.match(text, /^parley_grpc_server_request_duration_seconds_count\{(?=.*GetUser)(?=.*code="NOT_FOUND").*\} 1$/m);
});
