import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError, RestClient, gatewayEndpoints, type FetchLike } from '../src/index.js';

interface Seen {
  url: string;
  init: RequestInit;
}

function fake(answer: (url: string) => Response): { fetch: FetchLike; seen: Seen[] } {
  const seen: Seen[] = [];
  return { seen, fetch: async (url, init) => (seen.push({ url, init }), answer(url)) };
}
const json = (status: number, body: unknown, headers: Record<string, string> = {}) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });
const endpoints = { users: 'http://u', rooms: 'http://r', query: 'http://q' };
const UUID = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const user = { id: UUID(1), username: 'ada', display_name: 'Ada' };

test('login keeps the token and later calls send it as a bearer', async () => {
  const f = fake((url) => (url.endsWith('/v1/sessions') ? json(201, { token: 't0k', expires_at: '2030-01-01T00:00:00.000Z', user }) : json(200, { user })));
  const rest = new RestClient({ endpoints, fetch: f.fetch });
  assert.equal((await rest.login('ada', 'pw pw pw pw')).user.username, 'ada');
  assert.equal(rest.token, 't0k');
  await rest.me();
  assert.equal((f.seen[1]!.init.headers as Record<string, string>)['authorization'], 'Bearer t0k');
  assert.equal(f.seen[1]!.url, 'http://u/v1/me');
});

test('cookie mode sends no token and asks the browser for same-origin credentials', async () => {
  const f = fake(() => json(201, { token: 'secret', expires_at: '2030-01-01T00:00:00.000Z', user }));
  const rest = new RestClient({ endpoints: gatewayEndpoints(), auth: 'cookie', fetch: f.fetch });
  await rest.login('ada', 'pw pw pw pw');
  assert.equal(rest.token, undefined, 'a page keeps no token');
  assert.equal(f.seen[0]!.url, '/api/users/v1/sessions');
  assert.equal(f.seen[0]!.init.credentials, 'same-origin');
});

test('errors carry status, code, message and the wait the service asked for', async () => {
  const rest = new RestClient({
    endpoints,
    fetch: fake(() => json(429, { error: { code: 'RATE_LIMITED', message: 'too many login attempts', details: { retryAfterSeconds: 7 } } })).fetch,
  });
  const err = await rest.login('ada', 'pw pw pw pw').catch((e: unknown) => e);
  assert.ok(err instanceof ApiError);
  assert.deepEqual([err.status, err.code, err.message, err.retryAfterMs, err.canRetry], [429, 'RATE_LIMITED', 'too many login attempts', 7000, true]);
  const header = new RestClient({ endpoints, fetch: fake(() => json(503, { error: { code: 'DEPENDENCY_UNAVAILABLE', message: 'x' } }, { 'retry-after': '1' })).fetch });
  assert.equal(((await header.me().catch((e: unknown) => e)) as ApiError).retryAfterMs, 1000);
  const html = new RestClient({ endpoints, fetch: fake(() => new Response('<h1>bad gateway</h1>', { status: 502 })).fetch });
  assert.deepEqual(await html.me().catch((e: ApiError) => [e.status, e.code]), [502, 'HTTP_ERROR']);
});

test('no answer at all is status 0, NETWORK, retryable', async () => {
  const rest = new RestClient({
    endpoints,
    fetch: async () => {
      throw new TypeError('fetch failed');
    },
  });
  const err = (await rest.me().catch((e: unknown) => e)) as ApiError;
  assert.deepEqual([err.status, err.code, err.canRetry], [0, 'NETWORK', true]);
});

test('message pages are read with the contracts schemas and paged by id or cursor', async () => {
  const m = { v: 1, id: '12', room_id: 'r1', sender_id: 'a1', sender_name: 'Ada', body: 'hi', client_msg_id: 'c1', kind: 'message', created_at: 5 };
  const f = fake((url) => (url.includes('/latest') ? json(200, { messages: [m], has_more: true }) : json(200, { messages: [{ ...m, highlights: ['<mark>hi</mark>'] }], next_cursor: null })));
  const rest = new RestClient({ endpoints, token: 't', fetch: f.fetch });
  assert.equal((await rest.latest('R1', { beforeId: '99', limit: 50 })).has_more, true);
  assert.equal(f.seen[0]!.url, 'http://q/v1/rooms/R1/messages/latest?limit=50&before_id=99');
  assert.deepEqual((await rest.search('R1', 'hi there', { cursor: 'abc' })).messages[0]?.highlights, ['<mark>hi</mark>']);
  assert.equal(f.seen[1]!.url, 'http://q/v1/rooms/R1/search?q=hi+there&cursor=abc');
  const broken = new RestClient({ endpoints, fetch: fake(() => json(200, { messages: [{ id: 1 }], has_more: false })).fetch });
  assert.equal(((await broken.latest('r').catch((e: unknown) => e)) as ApiError).code, 'INVALID_ANSWER');
});

test('answers of the wrong shape are refused, not passed on', async () => {
  const rest = new RestClient({ endpoints, token: 't', fetch: fake(() => json(200, { rooms: [{ id: 'not-a-uuid', name: 'x' }] })).fetch });
  assert.equal(((await rest.listRooms('mine').catch((e: unknown) => e)) as ApiError).code, 'INVALID_ANSWER');
});

test('ensureMember joins only when the caller has no role', async () => {
  const room = { id: UUID(7), name: 'lobby', visibility: 'public', owner_id: UUID(1), created_at: '2030-01-01T00:00:00.000Z' };
  const f = fake((url) => (url.endsWith('/join') ? json(200, { role: 'member' }) : json(200, { room })));
  const rest = new RestClient({ endpoints, token: 't', fetch: f.fetch });
  assert.equal((await rest.ensureMember(UUID(7))).role, 'member');
  assert.deepEqual(f.seen.map((s) => `${s.init.method} ${s.url}`), [`GET http://r/v1/rooms/${UUID(7)}`, `POST http://r/v1/rooms/${UUID(7)}/join`]);
});

test('one message, its versions, its thread and the caller\'s mentions; a mention filter on history and search', async () => {
  const m = { v: 1, id: '12', room_id: 'r1', sender_id: 'a1', sender_name: 'Ada', body: 'hi @bob', client_msg_id: 'c1', kind: 'message', created_at: 5, mentions: ['b1'], version: 2, edited_at: 9, changed_at: 9 };
  const reply = { ...m, id: '13', body: 'yes', reply_to: '12', mentions: undefined, version: undefined, edited_at: undefined, changed_at: undefined };
  const f = fake((url) => {
    if (url.includes('/versions')) return json(200, { message_id: '12', versions: [{ version: 1, body: 'hi', at: 5 }, { version: 2, body: 'hi @bob', at: 9 }] });
    if (url.includes('/thread')) return json(200, { parent: { ...m, reply_count: 1, last_reply_id: '13' }, messages: [reply], has_more: false });
    if (url.includes('/messages/12')) return json(200, m);
    return json(200, { messages: [m], next_cursor: 'n1' });
  });
  const rest = new RestClient({ endpoints, token: 't', fetch: f.fetch });
  assert.equal((await rest.message('R1', '12')).version, 2);
  assert.deepEqual((await rest.versions('R1', '12')).versions.map((v) => v.body), ['hi', 'hi @bob']);
  const thread = await rest.thread('R1', '12', { limit: 10, afterId: '12' });
  assert.deepEqual([thread.parent.reply_count, thread.messages[0]?.reply_to, thread.has_more], [1, '12', false]);
  assert.equal((await rest.mentions({ limit: 5, cursor: 'n0' })).next_cursor, 'n1');
  await rest.history('R1', { mention: 'b1', order: 'newest' });
  await rest.search('R1', 'hi', { mention: 'b1' });
  assert.deepEqual(f.seen.map((s) => s.url), [
    'http://q/v1/rooms/R1/messages/12',
    'http://q/v1/rooms/R1/messages/12/versions',
    'http://q/v1/rooms/R1/messages/12/thread?limit=10&after_id=12',
    'http://q/v1/mentions?limit=5&cursor=n0',
    'http://q/v1/rooms/R1/messages?order=newest&mention=b1',
    'http://q/v1/rooms/R1/search?q=hi&mention=b1',
  ]);
  const wrong = new RestClient({ endpoints, fetch: fake(() => json(200, { message_id: '12', versions: [{ version: 0, body: 'x', at: 1 }] })).fetch });
  assert.equal(((await wrong.versions('R1', '12').catch((e: unknown) => e)) as ApiError).code, 'INVALID_ANSWER');
});

test('a message id that is not one is refused before any request, and is not retryable', async () => {
  const f = fake(() => json(200, {}));
  const rest = new RestClient({ endpoints, token: 't', fetch: f.fetch });
  for (const call of [() => rest.message('R1', '../../v1/me'), () => rest.versions('R1', '0'), () => rest.thread('R1', '12', { afterId: 'x' }), () => rest.thread('R1', '-1')]) {
    const err = (await call().catch((e: unknown) => e)) as ApiError;
    assert.ok(err instanceof ApiError);
    assert.deepEqual([err.status, err.code, err.canRetry], [0, 'INVALID_ARGUMENT', false]);
    assert.match(err.message, /is not a message id/);
  }
  assert.equal(f.seen.length, 0);
});

test('read marks, readers, unread and direct rooms go to their services with their shapes', async () => {
  const room = { id: UUID(9), name: 'dm', visibility: 'direct', owner_id: UUID(1), created_at: '2030-01-01T00:00:00.000Z', role: 'member' };
  const f = fake((url) => {
    if (url.endsWith('/read')) return json(200, { room_id: UUID(9), read_up_to: '42' });
    if (url.endsWith('/readers')) return json(200, { message_id: '42', count: 1, readers: [UUID(2)] });
    if (url.endsWith('/v1/unread')) return json(200, { rooms: [{ room_id: UUID(9), read_up_to: null, messages: 3, mentions: 1 }] });
    return json(201, { room });
  });
  const rest = new RestClient({ endpoints, token: 't', fetch: f.fetch });
  assert.equal((await rest.directRoom(UUID(2).toUpperCase())).visibility, 'direct');
  assert.deepEqual(JSON.parse(String(f.seen[0]!.init.body)), { user_id: UUID(2) }, 'the id in its canonical spelling');
  assert.equal(f.seen[0]!.url, 'http://r/v1/direct-rooms');
  assert.equal((await rest.markRead(UUID(9), '42')).read_up_to, '42');
  assert.equal(f.seen[1]!.init.method, 'PUT');
  assert.equal(f.seen[1]!.url, `http://q/v1/rooms/${UUID(9)}/read`);
  assert.deepEqual((await rest.readers(UUID(9), '42')).readers, [UUID(2)]);
  assert.equal((await rest.unread()).rooms[0]?.messages, 3);
  await assert.rejects(rest.directRoom('bob'), (e: unknown) => e instanceof ApiError && e.code === 'INVALID_ARGUMENT');
  await assert.rejects(rest.markRead(UUID(9), 'x1'), (e: unknown) => e instanceof ApiError && e.code === 'INVALID_ARGUMENT');
  assert.equal(f.seen.length, 4, 'bad arguments never reach the wire');
});

test("presence asks the edge's HTTP side, and refuses without one", async () => {
  const f = fake((url) => (url.includes('/v1/users/') ? json(200, { user_id: UUID(1), status: 'offline', last_seen: 5 }) : json(200, { room_id: UUID(9), online: [{ user_id: UUID(2), name: 'Bob', since: 1 }] })));
  const rest = new RestClient({ endpoints: gatewayEndpoints('http://web'), auth: 'cookie', fetch: f.fetch });
  assert.deepEqual(await rest.roomPresence(UUID(9)), [{ user_id: UUID(2), name: 'Bob', since: 1 }]);
  assert.equal(f.seen[0]!.url, `http://web/api/realtime/v1/rooms/${UUID(9)}/presence`);
  assert.deepEqual(await rest.userPresence(UUID(1)), { user_id: UUID(1), status: 'offline', last_seen: 5 });
  const bare = new RestClient({ endpoints, fetch: f.fetch });
  await assert.rejects(bare.roomPresence(UUID(9)), (e: unknown) => e instanceof ApiError && e.code === 'INVALID_ARGUMENT' && /realtime/.test(e.message));
  const odd = new RestClient({ endpoints: { ...endpoints, realtime: 'http://e' }, fetch: fake(() => json(200, { user_id: UUID(1), status: 'away' })).fetch });
  await assert.rejects(odd.userPresence(UUID(1)), (e: unknown) => e instanceof ApiError && e.code === 'INVALID_ANSWER');
});
