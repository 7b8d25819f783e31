import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deferrer } from '@parley/test-support';
import { startUserSvc, call, newUser } from '@parley/test-support/user-svc';

const pw = 'a long password';

test('every bad input gets a clear 4xx, never a 500, and harms nothing', async (t) => {
  const defer = deferrer(t);
  const u = await startUserSvc(defer, { USER_HTTP_BODY_LIMIT: '4096' });
  const cases: Array<[string, Parameters<typeof call>[3], number, string]> = [
    ['missing fields', { body: {} }, 400, 'VALIDATION_FAILED'],
    ['missing password', { body: { username: 'bob_1' } }, 400, 'VALIDATION_FAILED'],
    ['extra field', { body: { username: 'bob_1', password: pw, admin: true } }, 400, 'VALIDATION_FAILED'],
    ['wrong types', { body: { username: 42, password: ['x'] } }, 400, 'VALIDATION_FAILED'],
    ['null body', { raw: 'null' }, 400, 'VALIDATION_FAILED'],
    ['array body', { raw: '[1,2]' }, 400, 'VALIDATION_FAILED'],
    ['empty body', { raw: '' }, 400, 'VALIDATION_FAILED'],
    ['invalid JSON', { raw: '{"username": ' }, 400, 'VALIDATION_FAILED'],
    ['proto pollution keys', { raw: '{"username":"bob_1","password":"a long password","__proto__":{"x":1}}' }, 400, 'VALIDATION_FAILED'],
    ['over-long username', { body: { username: 'b'.repeat(33), password: pw } }, 400, 'VALIDATION_FAILED'],
    ['SQL in username', { body: { username: "x'; DROP TABLE users;--", password: pw } }, 400, 'VALIDATION_FAILED'],
    ['short password', { body: { username: 'bob_1', password: 'short' } }, 400, 'VALIDATION_FAILED'],
    ['over-long password', { body: { username: 'bob_1', password: 'p'.repeat(257) } }, 400, 'VALIDATION_FAILED'],
    ['over-long display name', { body: { username: 'bob_1', password: pw, display_name: 'é'.repeat(65) } }, 400, 'VALIDATION_FAILED'],
    ['control char in name', { body: { username: 'bob_1', password: pw, display_name: 'bo\u0000b' } }, 400, 'VALIDATION_FAILED'],
    ['escape char in name', { body: { username: 'bob_1', password: pw, display_name: 'bo\u001b[31mb' } }, 400, 'VALIDATION_FAILED'],
    ['lone surrogate', { raw: '{"username":"bob_1","password":"a long password","display_name":"\\ud800x"}' }, 400, 'VALIDATION_FAILED'],
    ['invalid UTF-8 bytes', { raw: Buffer.concat([Buffer.from('{"username":"bob_1","password":"a long password","display_name":"a'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]) }, 400, 'VALIDATION_FAILED'],
    ['huge body', { body: { username: 'bob_1', password: pw, display_name: 'x'.repeat(10_000) } }, 413, 'PAYLOAD_TOO_LARGE'],
    ['not JSON content type', { raw: 'username=bob', headers: { 'content-type': 'application/x-www-form-urlencoded' } }, 415, 'UNSUPPORTED_MEDIA_TYPE'],
  ];
  for (const [name, opts, status, code] of cases) {
    const r = await call(u.http, 'POST', '/v1/users', opts);
    assert.equal(r.status, status, `${name}: ${JSON.stringify(r.body)}`);
    assert.equal(r.body?.error?.code, code, name);
    assert.equal(typeof r.body.error.message, 'string', name);
  }
  const login = await call(u.http, 'POST', '/v1/sessions', { body: { username: 'bob_1', password: pw, remember: true } });
  assert.equal(login.status, 400);
  assert.equal((await call(u.http, 'GET', '/v1/nothing')).status, 404);
  assert.equal((await call(u.http, 'GET', '/v1/nothing')).body.error.code, 'NOT_FOUND');
  const users = await u.pg.client.query('SELECT count(*)::int AS n FROM users');
  assert.equal(users.rows[0].n, 0, 'no bad request created a user');
});

test('tokens that are malformed, unknown or in the wrong place are 401', async (t) => {
  const defer = deferrer(t);
  const u = await startUserSvc(defer);
  const me = await newUser(u.http);
  for (const headers of [
    {},
    { authorization: 'Bearer' },
    { authorization: 'Basic abc' },
    { authorization: `Bearer ${me.token}x` },
    { authorization: `Bearer ${'A'.repeat(43)}` },
    { authorization: `Bearer ${"'; SELECT 1;--".padEnd(43, 'a')}` },
    { cookie: 'parley_session=%E0%A4%A' },
    { 'sec-websocket-protocol': `parley.token.${me.token}` },
  ] as Array<Record<string, string>>) {
    const r = await call(u.http, 'GET', '/v1/me', { headers });
    assert.equal(r.status, 401, JSON.stringify(headers));
    assert.equal(r.body.error.code, 'UNAUTHENTICATED');
  }
});

test('usernames are unique regardless of case; names with SQL metacharacters are stored literally', async (t) => {
  const defer = deferrer(t);
  const u = await startUserSvc(defer);
  const name = `Robert'); DROP TABLE users;-- "%_\\`;
  const a = await call(u.http, 'POST', '/v1/users', { body: { username: 'Bobby.Tables', password: pw, display_name: name } });
  assert.equal(a.status, 201);
  assert.equal(a.body.user.display_name, name);
  const b = await call(u.http, 'POST', '/v1/users', { body: { username: 'bobby.TABLES', password: pw } });
  assert.equal(b.status, 409);
  assert.equal(b.body.error.code, 'CONFLICT');
  const login = await call(u.http, 'POST', '/v1/sessions', { body: { username: 'BOBBY.tables', password: pw } });
  assert.equal(login.body.user.display_name, name);
  const rows = await u.pg.client.query('SELECT display_name FROM users');
  assert.deepEqual(rows.rows, [{ display_name: name }]);
});
