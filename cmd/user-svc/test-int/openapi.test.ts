import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openApiContract } from '@parley/http/openapi-contract';
import { deferrer, uniqueName } from '@parley/test-support';
import { startUserSvc, call } from '@parley/test-support/user-svc';

const password = 'a long password';

test('every user-svc route answers as its generated OpenAPI document says, on success and on error', async (t) => {
  const defer = deferrer(t);
  // Small limits, so that 413 and 429 can be shown too.
  const u = await startUserSvc(defer, { USER_HTTP_BODY_LIMIT: '1024', USER_REGISTER_MAX_PER_IP: '2', USER_LOGIN_MAX_PER_USERNAME: '3' });
  const docAnswer = await call(u.http, 'GET', '/openapi.json');
  const contract = openApiContract(docAnswer.body);
  const expect = async (status: number, method: string, path: string, opts: Parameters<typeof call>[3] = {}) => {
    const r = await call(u.http, method, path, opts);
    assert.equal(r.status, status, `${method} ${path}: ${JSON.stringify(r.body)}`);
    contract.check(method, path, r);
    return r.body;
  };
  contract.check('GET', '/openapi.json', docAnswer);
  await expect(200, 'GET', '/healthz');
  await expect(200, 'GET', '/readyz');

  const username = uniqueName('u').slice(0, 30);
  const created = await expect(201, 'POST', '/v1/users', { body: { username, password, display_name: 'Ada 🦊' } });
  assert.equal(created.user.display_name, 'Ada 🦊');
  await expect(400, 'POST', '/v1/users', { body: { username, password: 'short' } });
  await expect(409, 'POST', '/v1/users', { body: { username: username.toUpperCase(), password } });
  await expect(413, 'POST', '/v1/users', { body: { username, password, display_name: 'x'.repeat(2000) } });
  await expect(415, 'POST', '/v1/users', { raw: 'username=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  await expect(429, 'POST', '/v1/users', { body: { username: `${username.slice(0, 28)}x`, password } });

  const session = await expect(201, 'POST', '/v1/sessions', { body: { username, password } });
  await expect(400, 'POST', '/v1/sessions', { body: { username, password, remember: true } });
  await expect(401, 'POST', '/v1/sessions', { body: { username, password: 'not the password' } });
  await expect(201, 'POST', '/v1/sessions', { body: { username, password } });
  await expect(429, 'POST', '/v1/sessions', { body: { username, password } });

  const me = await expect(200, 'GET', '/v1/me', { token: session.token });
  assert.equal(me.user.id, created.user.id);
  await expect(401, 'GET', '/v1/me');
  await expect(204, 'DELETE', '/v1/sessions/current', { token: session.token });
  await expect(401, 'DELETE', '/v1/sessions/current', { token: session.token });

  assert.deepEqual(contract.unchecked(), [], 'every documented route was shown to keep its word');
});
