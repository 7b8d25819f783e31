import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { deferrer } from '@parley/test-support';
import { startAll, newUser, call } from '@parley/test-support/query-svc';
import { makeEnvelopes, writeEs } from '@parley/test-support/store-fixtures';

const MIN = 60_000;
type Msg = { id: string; body: string; sender_id: string; created_at: number; highlights?: string[] };
const bodies = (r: { body: { messages: Msg[] } }) => r.body.messages.map((m) => m.body);

async function setup(t: TestContext) {
  const defer = deferrer(t);
  const q = await startAll(defer);
  const [alice, bob, eve] = [await newUser(q.users.http), await newUser(q.users.http), await newUser(q.users.http)];
  const room = await q.newRoom(alice);
  assert.equal((await call(q.rooms.http, 'PUT', `/v1/rooms/${room}/members/${bob.id}`, { token: alice.token })).status, 201);
  return { q, alice, bob, eve, room };
}

test('search: words, phrases, sender, time window, both orders, highlights, syntax as text', async (t) => {
  const { q, alice, bob, room } = await setup(t);
  const t0 = Date.now() - 60 * MIN;
  const texts: Array<[string, string]> = [
    ['alice', 'the quick brown fox'],
    ['bob', 'quick thinking saves the day'],
    ['alice', 'a brown quick fox jumps'],
    ['bob', 'nothing to see here'],
    ['alice', 'the <b>quick</b> fox & friends'],
    ['bob', 'weird *:* OR (a AND b) text'],
  ];
  const ids = { alice: alice.id, bob: bob.id } as Record<string, string>;
  const envs = makeEnvelopes(texts.map(([who, body], i) => ({ roomId: room, senderId: ids[who]!, body, at: t0 + i * MIN })));
  const other = makeEnvelopes([{ roomId: '00000000-0000-4000-8000-000000000000', senderId: alice.id, body: 'quick fox elsewhere', at: t0 }], 3);
  await writeEs(q.es, q.alias, [...envs, ...other]);
  const s = (query: string, token = bob.token) => call(q.http, 'GET', `/v1/rooms/${room}/search?${query}`, { token });

  assert.deepEqual(bodies(await s('q=quick+fox')), ['the <b>quick</b> fox & friends', 'a brown quick fox jumps', 'the quick brown fox']);
  assert.deepEqual(bodies(await s('q=quick+fox&order=oldest')), ['the quick brown fox', 'a brown quick fox jumps', 'the <b>quick</b> fox & friends']);
  // Markup is text too: in '<b>quick</b> fox' the tag name "b" stands between the two words.
  assert.deepEqual(bodies(await s(`q=${encodeURIComponent('"quick fox"')}`)), ['a brown quick fox jumps']);
  assert.deepEqual(bodies(await s(`q=${encodeURIComponent('"fox quick"')}`)), [], 'word order matters in a phrase');
  assert.deepEqual(bodies(await s(`q=quick&sender=${bob.id}`)), ['quick thinking saves the day']);
  assert.deepEqual(bodies(await s(`q=quick&from=${t0 + MIN}&to=${new Date(t0 + 4 * MIN).toISOString()}`)), ['a brown quick fox jumps', 'quick thinking saves the day']);

  const hl = (await s('q=quick+fox')).body.messages as Msg[];
  assert.deepEqual(hl[0]!.highlights, ['the &lt;b&gt;<mark>quick</mark>&lt;&#x2F;b&gt; <mark>fox</mark> &amp; friends']);
  assert.deepEqual(hl[2]!.highlights, ['the <mark>quick</mark> brown <mark>fox</mark>']);

  for (const typed of ['*:*', 'a AND b', '(a AND', 'a OR b OR c OR d', 'body:quick', '\\', '"unbalanced', '{"x":1}', '/.*/', 'quick~2^5']) {
    const r = await s(`q=${encodeURIComponent(typed)}`);
    assert.equal(r.status, 200, `${typed} is searched as text: ${JSON.stringify(r.body)}`);
    assert.ok(r.body.messages.length <= 1, typed);
  }
  assert.deepEqual(bodies(await s(`q=${encodeURIComponent('(a AND b)')}`)), ['weird *:* OR (a AND b) text'], 'operators are words');

  // History: same filters without text, newest first by default, no highlights.
  const hist = await call(q.http, 'GET', `/v1/rooms/${room}/messages?sender=${alice.id}`, { token: bob.token });
  assert.deepEqual(bodies(hist), [texts[4]![1], texts[2]![1], texts[0]![1]]);
  assert.equal(hist.body.messages[0].highlights, undefined);
  assert.equal(hist.body.next_cursor, null);
  assert.equal(hist.body.messages[0].id, envs[4]!.id, 'ids travel as exact decimal strings');
});

test('search finds a text by its own words whichever Unicode form it was typed in (NFC on both sides)', async (t) => {
  const { q, alice, bob, room } = await setup(t);
  const decomposed = 'cafe\u0301 au lait';
  const composed = 'un cr\u00e8me br\u00fbl\u00e9e';
  const envs = makeEnvelopes([decomposed, composed].map((body, i) => ({ roomId: room, senderId: alice.id, body, at: Date.now() - MIN + i })));
  await writeEs(q.es, q.alias, envs);
  const s = (query: string) => call(q.http, 'GET', `/v1/rooms/${room}/search?q=${encodeURIComponent(query)}`, { token: bob.token });
  for (const typed of ['cafe\u0301', 'caf\u00e9']) assert.equal((await s(typed)).body.messages.length, 1, `${JSON.stringify(typed)} finds the decomposed text`);
  for (const typed of ['cre\u0300me', 'cr\u00e8me', 'bru\u0302le\u0301e']) assert.equal((await s(typed)).body.messages.length, 1, `${JSON.stringify(typed)} finds the composed text`);
  assert.equal((await s('cafe')).body.messages.length, 0, 'an accent is still a different letter');
});

test('cursor paging never skips or repeats while new messages keep arriving', async (t) => {
  const { q, alice, bob, room } = await setup(t);
  const t0 = Date.now() - 120 * MIN;
  const initial = makeEnvelopes(Array.from({ length: 95 }, (_, i) => ({ roomId: room, senderId: alice.id, body: `hello number ${i}`, at: t0 + i * 1000 })));
  await writeEs(q.es, q.alias, initial);
  for (const order of ['newest', 'oldest'] as const) {
    const seen: string[] = [];
    let cursor: string | null = null;
    let written = 0;
    for (let page = 0; page < 40; page++) {
      const path: string = `/v1/rooms/${room}/search?q=hello&order=${order}&limit=10${cursor ? `&cursor=${cursor}` : ''}`;
      const r = await call(q.http, 'GET', path, { token: bob.token });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      seen.push(...(r.body.messages as Msg[]).map((m) => m.id));
      // Between pages, more messages land: newer ids (live traffic) with the same words.
      const extra = makeEnvelopes([{ roomId: room, senderId: alice.id, body: `hello late ${order} ${page}`, at: Date.now() - 1000 }], 20 + page);
      await writeEs(q.es, q.alias, extra);
      written += 1;
      cursor = r.body.next_cursor;
      if (!cursor) break;
    }
    assert.equal(new Set(seen).size, seen.length, `${order}: no repeats`);
    const initialIds = initial.map((e) => e.id);
    for (const id of initialIds) assert.ok(seen.includes(id), `${order}: ${id} not skipped`);
    const sorted = [...seen].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1));
    assert.deepEqual(seen, order === 'oldest' ? sorted : sorted.reverse(), `${order}: strictly ordered`);
    // Oldest-first reaches the live tail, so it also returns the messages written meanwhile.
    if (order === 'oldest') assert.ok(seen.length > initialIds.length && written > 0);
  }
});

test('REST checks session (header or cookie) and membership: 401, 403, 404', async (t) => {
  const { q, bob, eve, room } = await setup(t);
  for (const route of ['messages', 'search?q=x']) {
    const path = `/v1/rooms/${room}/${route}`;
    assert.equal((await call(q.http, 'GET', path)).status, 401);
    assert.equal((await call(q.http, 'GET', path, { token: 'A'.repeat(43) })).status, 401);
    assert.equal((await call(q.http, 'GET', path, { token: eve.token })).status, 403);
    assert.equal((await call(q.http, 'GET', path, { headers: { cookie: `parley_session=${bob.token}` } })).status, 200);
    const unknown = await call(q.http, 'GET', `/v1/rooms/6f1c0d5e-1111-4222-8333-944455556666/${route}`, { token: bob.token });
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.error.code, 'NOT_FOUND');
  }
});
