import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deferrer } from '@parley/test-support';
import { startAll, newUser, call } from '@parley/test-support/query-svc';
import { encodeCursor, queryFingerprint } from '../src/cursor.js';

test('REST bad input is a 400 with a clear message, never a 500; OpenAPI and health are served', async (t) => {
  const defer = deferrer(t);
  const q = await startAll(defer);
  const owner = await newUser(q.users.http);
  const room = await q.newRoom(owner);
  const foreignCursor = encodeCursor({ id: 123n, order: 'newest', fingerprint: queryFingerprint({ other: 'query' }) });
  const cases: Array<[string, RegExp]> = [
    [`/v1/rooms/not-a-uuid/messages`, /roomId/],
    [`/v1/rooms/${room}/messages?limit=-1`, /limit: must be at least 1/],
    [`/v1/rooms/${room}/messages?limit=0`, /limit/],
    [`/v1/rooms/${room}/messages?limit=201`, /limit: must be at most 200/],
    [`/v1/rooms/${room}/messages?limit=99999999999999999999`, /limit/],
    [`/v1/rooms/${room}/messages?limit=ten`, /limit: must be an integer/],
    [`/v1/rooms/${room}/messages?limit=1&limit=2`, /limit/],
    [`/v1/rooms/${room}/messages?cursor=%%%`, /cursor is malformed/],
    [`/v1/rooms/${room}/messages?cursor=eyJ2IjoxfQ`, /cursor is malformed/],
    [`/v1/rooms/${room}/messages?cursor=${'A'.repeat(400)}`, /cursor is malformed: too long/],
    [`/v1/rooms/${room}/messages?cursor=${foreignCursor}`, /cursor belongs to a different query/],
    [`/v1/rooms/${room}/messages?order=sideways`, /order/],
    [`/v1/rooms/${room}/messages?sender=a%20b`, /sender/],
    [`/v1/rooms/${room}/messages?from=yesterday`, /from: must be epoch milliseconds or an RFC 3339/],
    [`/v1/rooms/${room}/messages?from=2000&to=1000`, /from must be before to/],
    [`/v1/rooms/${room}/messages?bogus=1`, /bogus|unrecognized/i],
    [`/v1/rooms/${room}/search`, /q/],
    [`/v1/rooms/${room}/search?q=`, /q must contain/],
    [`/v1/rooms/${room}/search?q=%20%20`, /q must contain/],
    [`/v1/rooms/${room}/search?q=${'x'.repeat(257)}`, /q is longer than 256 characters/],
  ];
  for (const [path, message] of cases) {
    const r = await call(q.http, 'GET', path, { token: owner.token });
    assert.equal(r.status, 400, `${path}: ${JSON.stringify(r.body)}`);
    assert.equal(r.body.error.code, 'VALIDATION_FAILED');
    assert.match(r.body.error.message, message, path);
  }
  // Query syntax typed by a user is searched as text (no 400, no 500).
  for (const typed of ['*:*', '((((', 'a OR b OR c OR d OR e OR f OR g OR h', 'body:*', '\u0000', '😀'.repeat(200)]) {
    const r = await call(q.http, 'GET', `/v1/rooms/${room}/search?q=${encodeURIComponent(typed)}`, { token: owner.token });
    assert.equal(r.status, 200, `${typed}: ${JSON.stringify(r.body)}`);
  }

  const openapi = await call(q.http, 'GET', '/openapi.json');
  assert.equal(openapi.status, 200);
  assert.ok(openapi.body.paths['/v1/rooms/{roomId}/search']);
  assert.equal((await call(q.http, 'GET', '/healthz')).status, 200);
  const ready = await call(q.http, 'GET', '/readyz');
  assert.deepEqual(ready.body, { status: 'ready', checks: { cassandra: 'ok', elasticsearch: 'ok' } });
});
