import { test } from 'node:test';
import assert from 'node:assert/strict';
import { status } from '@grpc/grpc-js';
import { createHash } from 'node:crypto';
import { connectNats } from '@parley/clients';
import { deferrer, eventually, infra, uniqueName } from '@parley/test-support';
import { startUserSvc, userGrpcClient, call, newUser } from '@parley/test-support/user-svc';
import { hashPassword } from '../src/passwords.js';

test('register, log in, who-am-I by bearer and cookie, gRPC validate, log out revokes everywhere', async (t) => {
  const defer = deferrer(t);
  const u = await startUserSvc(defer);
  const grpc = userGrpcClient(defer, u.grpcAddr);

  const reg = await call(u.http, 'POST', '/v1/users', { body: { username: 'Alice_1', password: 'a long password', display_name: 'Alice 🦊' } });
  assert.equal(reg.status, 201);
  assert.equal(reg.body.user.display_name, 'Alice 🦊');
  assert.equal(JSON.stringify(reg.body).includes('password'), false);

  const login = await call(u.http, 'POST', '/v1/sessions', { body: { username: 'alice_1', password: 'a long password' } });
  assert.equal(login.status, 201);
  const token: string = login.body.token;
  assert.match(token, /^[A-Za-z0-9_-]{43}$/);
  assert.match(login.headers.get('set-cookie') ?? '', /^parley_session=[A-Za-z0-9_-]{43}; Path=\/; Max-Age=\d+; HttpOnly; SameSite=Lax/);

  const stored = await u.pg.client.query<{ token_hash: Buffer }>('SELECT token_hash FROM sessions');
  assert.equal(stored.rows.length, 1);
  assert.equal(stored.rows[0]!.token_hash.length, 32);
  assert.notEqual(stored.rows[0]!.token_hash.toString('base64url'), token);
  const hashRow = await u.pg.client.query<{ password_hash: string }>('SELECT password_hash FROM users');
  assert.match(hashRow.rows[0]!.password_hash, /^scrypt\$12\$8\$1\$[A-Za-z0-9_-]+\$[A-Za-z0-9_-]{43}$/);

  assert.equal((await call(u.http, 'GET', '/v1/me', { token })).body.user.username, 'Alice_1');
  const byCookie = await call(u.http, 'GET', '/v1/me', { headers: { cookie: `theme=dark; parley_session=${token}` } });
  assert.equal(byCookie.status, 200);

  const v = await grpc.validateSession(token);
  assert.deepEqual(v.user, { id: reg.body.user.id, username: 'Alice_1', displayName: 'Alice 🦊' });
  assert.ok(v.cacheUntilMs > Date.now() && v.cacheUntilMs <= Date.now() + 30_000);

  const out = await call(u.http, 'DELETE', '/v1/sessions/current', { token });
  assert.equal(out.status, 204);
  assert.match(out.headers.get('set-cookie') ?? '', /parley_session=; .*Max-Age=0/);
  assert.equal((await call(u.http, 'GET', '/v1/me', { token })).status, 401);
  await assert.rejects(grpc.validateSession(token), (e: { code: number }) => e.code === status.UNAUTHENTICATED);
  assert.equal((await call(u.http, 'DELETE', '/v1/sessions/current', { token })).status, 401);
  const revoked = await u.pg.client.query('SELECT 1 FROM sessions WHERE revoked_at IS NOT NULL');
  assert.equal(revoked.rowCount, 1);
});

test('unknown user and wrong password answer identically and in similar time', async (t) => {
  const defer = deferrer(t);
  const u = await startUserSvc(defer, { USER_SCRYPT_LOG_N: '14' });
  const me = await newUser(u.http);
  const timeOf = async (username: string) => {
    const t0 = performance.now();
    const r = await call(u.http, 'POST', '/v1/sessions', { body: { username, password: 'wrong password!' } });
    return { ms: performance.now() - t0, r };
  };
  await timeOf('warmup_user');
  const unknown: number[] = [];
  const wrong: number[] = [];
  for (let i = 0; i < 4; i++) {
    const a = await timeOf(`nobody_${i}`);
    const b = await timeOf(me.username);
    assert.equal(a.r.status, 401);
    assert.deepEqual(a.r.body, b.r.body);
    assert.equal(a.r.status, b.r.status);
    unknown.push(a.ms);
    wrong.push(b.ms);
  }
  const median = (xs: number[]) => xs.sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
  const [mu, mw] = [median(unknown), median(wrong)];
  t.diagnostic(`login median ms: unknown user ${mu.toFixed(1)}, wrong password ${mw.toFixed(1)}`);
  assert.ok(mu > mw * 0.5 && mu < mw * 2, `timings differ too much: ${mu} vs ${mw}`);
});

test('expired sessions are refused', async (t) => {
  const defer = deferrer(t);
  const u = await startUserSvc(defer);
  const me = await newUser(u.http);
  await u.pg.client.query("UPDATE sessions SET expires_at = now() - interval '1 second'");
  assert.equal((await call(u.http, 'GET', '/v1/me', { token: me.token })).status, 401);
  await assert.rejects(userGrpcClient(defer, u.grpcAddr).validateSession(me.token), (e: { code: number }) => e.code === status.UNAUTHENTICATED);
});

test('login attempts are limited per username, with Retry-After', async (t) => {
  const defer = deferrer(t);
  const u = await startUserSvc(defer, { USER_LOGIN_MAX_PER_USERNAME: '3', USER_LOGIN_WINDOW_SECONDS: '60' });
  const me = await newUser(u.http);
  for (let i = 0; i < 2; i++) assert.equal((await call(u.http, 'POST', '/v1/sessions', { body: { username: me.username, password: 'wrong password' } })).status, 401);
  const limited = await call(u.http, 'POST', '/v1/sessions', { body: { username: me.username.toUpperCase(), password: 'correct horse battery' } });
  assert.equal(limited.status, 429);
  assert.equal(limited.body.error.code, 'RATE_LIMITED');
  assert.ok(Number(limited.headers.get('retry-after')) > 0);
  const other = await newUser(u.http);
  assert.ok(other.token, 'another username is not limited');
});

test('health, readiness and the OpenAPI document', async (t) => {
  const defer = deferrer(t);
  const u = await startUserSvc(defer);
  assert.equal((await call(u.http, 'GET', '/healthz')).status, 200);
  const ready = await eventually(async () => {
    const r = await call(u.http, 'GET', '/readyz');
    return r.body.checks.nats === 'ok' && r;
  });
  assert.equal(ready.status, 200);
  assert.deepEqual(ready.body.checks, { postgres: 'ok', redis: 'ok', nats: 'ok' });
  const doc = await call(u.http, 'GET', '/openapi.json');
  assert.equal(doc.body.openapi, '3.0.3');
  assert.ok(doc.body.paths['/v1/sessions']);
});

test('login attempts are limited per client IP: behind a trusted proxy by X-Forwarded-For, otherwise by the peer', async (t) => {
  const defer = deferrer(t);
  const behind = await startUserSvc(defer, { USER_TRUSTED_PROXIES: '127.0.0.1,::1', USER_LOGIN_MAX_PER_IP: '2' });
  const attempt = (base: string, i: number, forwardedFor: string) =>
    call(base, 'POST', '/v1/sessions', { body: { username: `nobody_${i}`, password: 'wrong password' }, headers: { 'x-forwarded-for': forwardedFor } });
  assert.equal((await attempt(behind.http, 1, '203.0.113.1')).status, 401);
  assert.equal((await attempt(behind.http, 2, '198.51.100.9, 203.0.113.1')).status, 401, 'a spoofed left entry does not change the client');
  assert.equal((await attempt(behind.http, 3, '203.0.113.1')).status, 429);
  assert.equal((await attempt(behind.http, 4, '203.0.113.2')).status, 401, 'another browser behind the same proxy has its own limit');

  const direct = await startUserSvc(defer, { USER_LOGIN_MAX_PER_IP: '2' });
  assert.equal((await attempt(direct.http, 1, '203.0.113.1')).status, 401);
  assert.equal((await attempt(direct.http, 2, '203.0.113.2')).status, 401);
  assert.equal((await attempt(direct.http, 3, '203.0.113.3')).status, 429, 'without trusted proxies the header is ignored');
});

test('logout announces session.revoked on JetStream with the token hash, never the token', async (t) => {
  const defer = deferrer(t);
  const u = await startUserSvc(defer);
  const nats = await connectNats({ url: infra.natsUrl, name: 'user-svc-test' });
  defer(() => nats.close());
  const me = await newUser(u.http);
  assert.equal((await call(u.http, 'DELETE', '/v1/sessions/current', { token: me.token })).status, 204);
  // Read from the stream, not a live subscription: stored means it survives a subscriber's absence.
  const stored = await eventually(() => nats.client.jsm.streams.getMessage(u.sessionEvents.stream, { last_by_subj: `${u.sessionEvents.prefix}.session.revoked` }).catch(() => undefined));
  const text = new TextDecoder().decode(stored.data);
  assert.equal(text.includes(me.token), false);
  const event = JSON.parse(text) as Record<string, unknown>;
  assert.equal(event['type'], 'session.revoked');
  assert.equal(event['v'], 1);
  assert.equal(event['user_id'], me.id);
  assert.equal(event['token_sha256'], createHash('sha256').update(me.token).digest('hex'));
  assert.match(String(event['id']), /^[0-9a-f-]{36}$/);
  assert.equal(stored.header?.get('Nats-Msg-Id'), event['id']);
});

test('registrations are limited per client IP (X-Forwarded-For behind a trusted proxy); a refused one creates nothing', async (t) => {
  const defer = deferrer(t);
  const u = await startUserSvc(defer, { USER_TRUSTED_PROXIES: '127.0.0.1,::1', USER_REGISTER_MAX_PER_IP: '2', USER_REGISTER_WINDOW_SECONDS: '60' });
  const register = (forwardedFor: string) =>
    call(u.http, 'POST', '/v1/users', { body: { username: uniqueName('r').slice(0, 30), password: 'correct horse battery' }, headers: { 'x-forwarded-for': forwardedFor } });
  assert.equal((await register('203.0.113.1')).status, 201);
  assert.equal((await register('198.51.100.9, 203.0.113.1')).status, 201, 'a spoofed left entry does not change the client');
  const limited = await register('203.0.113.1');
  assert.equal(limited.status, 429);
  assert.equal(limited.body.error.code, 'RATE_LIMITED');
  assert.ok(Number(limited.headers.get('retry-after')) > 0);
  assert.equal((await register('203.0.113.2')).status, 201, 'another client has its own limit');
  assert.equal((await u.pg.client.query('SELECT 1 FROM users')).rowCount, 3, 'the refused registration created nothing');
  const login = await call(u.http, 'POST', '/v1/sessions', { body: { username: 'nobody_1', password: 'wrong password' }, headers: { 'x-forwarded-for': '203.0.113.1' } });
  assert.equal(login.status, 401, 'registration and login limits are counted apart');
});

test('gRPC GetUser answers a known id (any letter case), NOT_FOUND for an unknown one, INVALID_ARGUMENT for a non-UUID', async (t) => {
  const defer = deferrer(t);
  const u = await startUserSvc(defer);
  const grpc = userGrpcClient(defer, u.grpcAddr);
  const me = await newUser(u.http);
  assert.deepEqual((await grpc.getUser(me.id.toUpperCase())).user, { id: me.id, username: me.username, displayName: me.username });
  await assert.rejects(grpc.getUser('00000000-0000-4000-8000-000000000000'), (e: { code: number }) => e.code === status.NOT_FOUND);
  await assert.rejects(grpc.getUser("1' OR '1'='1"), (e: { code: number }) => e.code === status.INVALID_ARGUMENT);
});

test('logging in with a password hashed at an older cost upgrades the stored hash once', async (t) => {
  const defer = deferrer(t);
  const u = await startUserSvc(defer);
  const me = await newUser(u.http);
  await u.pg.client.query('UPDATE users SET password_hash = $2 WHERE id = $1', [me.id, await hashPassword('correct horse battery', 10)]);
  const stored = async () => (await u.pg.client.query<{ password_hash: string }>('SELECT password_hash FROM users WHERE id = $1', [me.id])).rows[0]!.password_hash;
  const login = () => call(u.http, 'POST', '/v1/sessions', { body: { username: me.username, password: 'correct horse battery' } });
  assert.equal((await login()).status, 201);
  const upgraded = await stored();
  assert.match(upgraded, /^scrypt\$12\$8\$1\$/, 'USER_SCRYPT_LOG_N of the harness');
  assert.equal((await login()).status, 201, 'the upgraded hash verifies');
  assert.equal(await stored(), upgraded, 'a current hash is not rewritten');
});
