import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { openApiContract } from '@parley/http/openapi-contract';
import { deferrer } from '@parley/test-support';
import { startUserSvc, call, newUser } from '@parley/test-support/user-svc';
import { roomNames, startRoomSvc } from '@parley/test-support/room-svc';

test('every room-svc route answers as its generated OpenAPI document says, on success and on error', async (t) => {
  const defer = deferrer(t);
  const users = await startUserSvc(defer);
  const r = await startRoomSvc(defer, await roomNames(defer), users.grpcAddr, { ROOM_HTTP_BODY_LIMIT: '1024' });
  const [owner, other] = [await newUser(users.http), await newUser(users.http)];
  const docAnswer = await call(r.http, 'GET', '/openapi.json');
  const contract = openApiContract(docAnswer.body);
  const expect = async (status: number, method: string, path: string, opts: Parameters<typeof call>[3] = {}) => {
    const res = await call(r.http, method, path, opts);
    assert.equal(res.status, status, `${method} ${path}: ${JSON.stringify(res.body)}`);
    contract.check(method, path, res);
    return res.body;
  };
  contract.check('GET', '/openapi.json', docAnswer);
  await expect(200, 'GET', '/healthz');
  await expect(200, 'GET', '/readyz');

  const mine = { token: owner.token };
  const theirs = { token: other.token };
  const open = (await expect(201, 'POST', '/v1/rooms', { ...mine, body: { name: 'lobby 🦊', visibility: 'public' } })).room;
  const closed = (await expect(201, 'POST', '/v1/rooms', { ...mine, body: { name: 'back room' } })).room;
  await expect(400, 'POST', '/v1/rooms', { ...mine, body: { name: ' padded ' } });
  await expect(401, 'POST', '/v1/rooms', { body: { name: 'x' } });
  await expect(413, 'POST', '/v1/rooms', { ...mine, body: { name: 'x'.repeat(2000) } });
  await expect(415, 'POST', '/v1/rooms', { ...mine, raw: 'name=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } });

  await expect(200, 'GET', '/v1/rooms', mine);
  await expect(200, 'GET', '/v1/rooms?scope=public&limit=5', theirs);
  await expect(400, 'GET', '/v1/rooms?limit=0', mine);
  await expect(401, 'GET', '/v1/rooms');

  await expect(200, 'GET', `/v1/rooms/${open.id}`, theirs);
  await expect(200, 'GET', `/v1/rooms/${closed.id.toUpperCase()}`, mine);
  await expect(400, 'GET', '/v1/rooms/not-a-uuid', mine);
  await expect(403, 'GET', `/v1/rooms/${closed.id}`, theirs);
  await expect(404, 'GET', `/v1/rooms/${randomUUID()}`, mine);

  await expect(200, 'PATCH', `/v1/rooms/${open.id}`, { ...mine, body: { name: 'lobby' } });
  await expect(403, 'PATCH', `/v1/rooms/${open.id}`, { ...theirs, body: { name: 'mine now' } });

  await expect(200, 'POST', `/v1/rooms/${open.id}/join`, theirs);
  await expect(403, 'POST', `/v1/rooms/${closed.id}/join`, theirs);
  await expect(200, 'GET', `/v1/rooms/${open.id}/members`, theirs);
  await expect(403, 'GET', `/v1/rooms/${closed.id}/members`, theirs);
  await expect(204, 'POST', `/v1/rooms/${open.id}/leave`, theirs);
  await expect(409, 'POST', `/v1/rooms/${open.id}/leave`, mine);

  await expect(201, 'PUT', `/v1/rooms/${closed.id}/members/${other.id}`, mine);
  await expect(200, 'PUT', `/v1/rooms/${closed.id}/members/${other.id}`, mine);
  await expect(404, 'PUT', `/v1/rooms/${closed.id}/members/${randomUUID()}`, mine);
  await expect(403, 'PUT', `/v1/rooms/${open.id}/members/${other.id}`, theirs);
  await expect(204, 'DELETE', `/v1/rooms/${closed.id}/members/${other.id}`, mine);
  await expect(409, 'DELETE', `/v1/rooms/${closed.id}/members/${owner.id}`, mine);

  await expect(403, 'DELETE', `/v1/rooms/${open.id}`, theirs);
  await expect(204, 'DELETE', `/v1/rooms/${open.id}`, mine);
  await expect(404, 'DELETE', `/v1/rooms/${open.id}`, mine);

  const dm = (await expect(201, 'POST', '/v1/direct-rooms', { ...mine, body: { user_id: other.id } })).room;
  assert.equal(dm.visibility, 'direct');
  await expect(200, 'POST', '/v1/direct-rooms', { ...theirs, body: { user_id: owner.id } });
  await expect(400, 'POST', '/v1/direct-rooms', { ...mine, body: { user_id: owner.id } });
  await expect(404, 'POST', '/v1/direct-rooms', { ...mine, body: { user_id: randomUUID() } });
  await expect(401, 'POST', '/v1/direct-rooms', { body: { user_id: other.id } });
  await expect(409, 'DELETE', `/v1/rooms/${dm.id}`, mine);

  assert.deepEqual(contract.unchecked(), [], 'every documented route was shown to keep its word');
});
