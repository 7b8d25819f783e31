import { test } from 'node:test';
import assert from 'node:assert/strict';
import { status } from '@grpc/grpc-js';
import { deferrer } from '@parley/test-support';
import { startUserSvc, userGrpcClient, call, newUser } from '@parley/test-support/user-svc';

test('with Redis unreachable, registration and login work (limits fail open), sessions validate from PostgreSQL and logout still revokes', async (t) => {
  const defer = deferrer(t);
  const u = await startUserSvc(defer, { REDIS_URL: 'redis://127.0.0.1:1/0', USER_LOGIN_MAX_PER_USERNAME: '1', USER_REGISTER_MAX_PER_IP: '1' });
  const grpc = userGrpcClient(defer, u.grpcAddr);
  const me = await newUser(u.http);
  await newUser(u.http); // a second registration from this IP: a limit of 1 is not enforced either
  const again = await call(u.http, 'POST', '/v1/sessions', { body: { username: me.username, password: 'correct horse battery' } });
  assert.equal(again.status, 201, 'limit of 1 is not enforced without Redis: fail open');

  assert.equal((await call(u.http, 'GET', '/v1/me', { token: me.token })).status, 200);
  assert.equal((await grpc.validateSession(me.token)).user?.id, me.id);

  const ready = await call(u.http, 'GET', '/readyz');
  assert.equal(ready.status, 200, 'Redis is optional for readiness');
  assert.match(ready.body.checks.redis, /^failing/);

  assert.equal((await call(u.http, 'DELETE', '/v1/sessions/current', { token: me.token })).status, 204);
  assert.equal((await call(u.http, 'GET', '/v1/me', { token: me.token })).status, 401);
  await assert.rejects(grpc.validateSession(me.token), (e: { code: number }) => e.code === status.UNAUTHENTICATED);
  assert.equal((await call(u.http, 'GET', '/v1/me', { token: again.body.token })).status, 200, 'other sessions stay valid');
});
