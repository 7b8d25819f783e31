import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { LatestPage as ContractLatestPage, Message, MessageEvent } from '@parley/contracts';
import { bucketOf } from '@parley/envelope';
import { deferrer } from '@parley/test-support';
import { startAll, newUser, call } from '@parley/test-support/query-svc';
import { makeEnvelopes, writeCql } from '@parley/test-support/store-fixtures';

const DAY = 24 * 3600 * 1000;
type LatestPage = ContractLatestPage;
const ids = (p: LatestPage) => p.messages.map((m) => m.id);
/** A stored message as the API shows it: the message contract, the same as every frame. */
const shown = (m: MessageEvent): Message => ({ ...m, version: 1, changed_at: m.created_at });

test('REST /messages/latest: paging back across buckets returns every message once; writes landing meanwhile are not skipped', async (t) => {
  const defer = deferrer(t);
  const q = await startAll(defer);
  const owner = await newUser(q.users.http);
  const member = await newUser(q.users.http);
  const now = Date.now();
  const room = await q.newRoom(owner, new Date(now - 120 * DAY));
  assert.equal((await call(q.rooms.http, 'PUT', `/v1/rooms/${room}/members/${member.id}`, { token: owner.token })).status, 201);

  // 60 messages over ~100 days with a 30-day silence: ~10 buckets, some of them empty.
  const times = Array.from({ length: 60 }, (_, i) => now - 110 * DAY + i * 1.7 * DAY).map((ms) => (ms > now - 70 * DAY && ms < now - 40 * DAY ? ms - 30 * DAY : ms));
  times.sort((a, b) => a - b);
  const envs = makeEnvelopes(times.map((at, i) => ({ roomId: room, senderId: owner.id, body: `m${i}`, at })));
  const noise = makeEnvelopes(times.map((at) => ({ roomId: '00000000-0000-4000-8000-000000000000', senderId: owner.id, body: 'other room', at: at + 1 })), 9);
  await writeCql(q.cql, q.keyspace, [...envs, ...noise]);
  const buckets = new Set(envs.map((e) => bucketOf(BigInt(e.id))));
  assert.ok(buckets.size >= 7, `fixture spans ${buckets.size} buckets`);
  assert.ok(Math.max(...buckets) - Math.min(...buckets) + 1 > buckets.size, 'fixture has empty buckets in between');

  const get = async (query: string): Promise<LatestPage> => {
    const r = await call(q.http, 'GET', `/v1/rooms/${room}/messages/latest${query}`, { token: member.token });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body as LatestPage;
  };

  const latest = await get('');
  assert.deepEqual(ids(latest), envs.slice(-50).map((e) => e.id), 'default limit 50, oldest to newest');
  assert.equal(latest.has_more, true);
  assert.deepEqual(latest.messages[0], shown(envs[10]!), 'the fields and types of /messages and /search');
  // The same reader as gRPC ListMessages: same page, same order.
  const viaGrpc = await q.grpc.list(member.token, { roomId: room, limit: 50 });
  assert.deepEqual(viaGrpc.messages.map((m) => m.id), ids(latest));

  // Page back 7 at a time. After the first page, a late write lands below the cursor (the CQL
  // writer catching up) and a new message lands above everything already seen.
  const late = makeEnvelopes([{ roomId: room, senderId: member.id, body: 'late', at: times[20]! + 1 }], 11);
  const fresh = makeEnvelopes([{ roomId: room, senderId: member.id, body: 'fresh', at: Date.now() }], 12);
  const back: string[] = [];
  let before = '';
  for (let guard = 0; guard < 30; guard++) {
    const page = await get(`?limit=7${before ? `&before_id=${before}` : ''}`);
    back.unshift(...ids(page));
    if (guard === 0) await writeCql(q.cql, q.keyspace, [...late, ...fresh]);
    if (!page.has_more) break;
    before = page.messages[0]!.id;
  }
  const expected = [...envs.map((e) => e.id), late[0]!.id].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1));
  assert.deepEqual(back, expected, 'every message once, oldest to newest, the late one included');

  // Catching up after the newest id seen gives the message that arrived meanwhile.
  const newest = envs.at(-1)!.id;
  assert.deepEqual(await get(`?after_id=${newest}`), { messages: [shown(fresh[0]!)], has_more: false });
  const forward: string[] = [];
  let after = envs[3]!.id;
  for (let guard = 0; guard < 30; guard++) {
    const page = await get(`?limit=9&after_id=${after}`);
    forward.push(...ids(page));
    if (!page.has_more) break;
    after = page.messages.at(-1)!.id;
  }
  assert.deepEqual(forward, [...expected.slice(expected.indexOf(envs[3]!.id) + 1), fresh[0]!.id]);
  assert.deepEqual(await get(`?before_id=${envs[0]!.id}`), { messages: [], has_more: false });

  // The session cookie works as well as the header.
  const byCookie = await call(q.http, 'GET', `/v1/rooms/${room}/messages/latest?limit=1`, { headers: { cookie: `parley_session=${member.token}` } });
  assert.equal(byCookie.status, 200);
  assert.deepEqual(ids(byCookie.body as LatestPage), [fresh[0]!.id]);
});

test('REST /messages/latest: session, membership and input are checked with the usual error shape', async (t) => {
  const defer = deferrer(t);
  const q = await startAll(defer);
  const owner = await newUser(q.users.http);
  const outsider = await newUser(q.users.http);
  const room = await q.newRoom(owner);
  const path = `/v1/rooms/${room}/messages/latest`;
  const refused: Array<[string, string | undefined, number, string]> = [
    ['no token', undefined, 401, 'UNAUTHENTICATED'],
    ['unknown token', 'not-a-real-token-not-a-real-token-not-a-real', 401, 'UNAUTHENTICATED'],
    ['not a member', outsider.token, 403, 'FORBIDDEN'],
  ];
  for (const [what, token, status, code] of refused) {
    const r = await call(q.http, 'GET', path, token ? { token } : {});
    assert.equal(r.status, status, what);
    assert.equal(r.body.error.code, code, what);
  }
  const missing = await call(q.http, 'GET', '/v1/rooms/6f1c0d5e-1111-4222-8333-944455556666/messages/latest', { token: owner.token });
  assert.equal(missing.status, 404);
  assert.equal(missing.body.error.code, 'NOT_FOUND');
  // Input is checked before access: a non-member with bad input learns only that the input is bad.
  assert.equal((await call(q.http, 'GET', `${path}?limit=0`, { token: outsider.token })).status, 400);

  const bad: Array<[string, RegExp]> = [
    ['/v1/rooms/not-a-uuid/messages/latest', /roomId/],
    [`${path}?limit=0`, /limit: must be at least 1/],
    [`${path}?limit=-1`, /limit: must be at least 1/],
    [`${path}?limit=201`, /limit: must be at most 200/],
    [`${path}?limit=ten`, /limit: must be an integer/],
    [`${path}?limit=1&limit=2`, /limit/],
    [`${path}?before_id=abc`, /before_id must be a message id/],
    [`${path}?before_id=0`, /before_id must be a message id/],
    [`${path}?after_id=-5`, /after_id must be a message id/],
    [`${path}?after_id=99999999999999999999`, /after_id must be a message id/],
    [`${path}?before_id=5&after_id=6`, /before_id or after_id, not both/],
    [`${path}?before_id=5&before_id=6`, /before_id/],
    [`${path}?cursor=abc`, /cursor|unrecognized/i],
  ];
  for (const [p, message] of bad) {
    const r = await call(q.http, 'GET', p, { token: owner.token });
    assert.equal(r.status, 400, `${p}: ${JSON.stringify(r.body)}`);
    assert.equal(r.body.error.code, 'VALIDATION_FAILED', p);
    assert.match(r.body.error.message, message, p);
  }
  assert.deepEqual((await call(q.http, 'GET', path, { token: owner.token })).body, { messages: [], has_more: false });
  const openapi = await call(q.http, 'GET', '/openapi.json');
  assert.ok(openapi.body.paths['/v1/rooms/{roomId}/messages/latest']);
});
