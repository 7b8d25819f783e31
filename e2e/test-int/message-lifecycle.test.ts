/**
 * Messages that change, end to end: edits, deletes, reactions, replies, mentions and erasure go
 * from a WebSocket command through the stream, ingestion and Kafka into both projections, and
 * come back as `message_updated` frames on every edge and as current state in every read. All
 * seven services run as their own processes on the real servers (e2e/system.ts); sockets are
 * raw, so each check is on the frames the edges really sent.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type cassandra from 'cassandra-driver';
import { MAX_DISTINCT_REACTIONS, type Message } from '@parley/contracts';
import { firstIdAt } from '@parley/envelope';
import { MessageTables, messageOfRow, long } from '@parley/message-store';
import { installElasticTemplates, removeElasticTemplates } from '@parley/migrate';
import { elasticNames } from '@parley/clients';
import { cqlCommandService } from '@parley/chat-command-cql-svc/app';
import { elasticCommandService } from '@parley/chat-command-elastic-svc/app';
import { deferrer, eventually, uniqueName } from '@parley/test-support';
import { migratedKeyspace, pipelineEnv, runService } from '@parley/test-support/pipeline';
import { Client } from '@parley/test-support/realtime-svc';
import { startSystem, type Member, type System } from '../system.js';

type Frame = Record<string, unknown>;
let seq = 0;
const cid = () => `c${Date.now().toString(36)}${(seq++).toString(36)}`;

/** A raw socket with a command that waits for its ack or error. */
async function open(sys: System, edge: number, roomId: string, who: Member, lastId?: string) {
  const c = await Client.open(`${sys.urls.edges[edge]}/v1/rooms/${roomId}/ws`, who.token, lastId ? { lastId } : {});
  await c.next((f) => f.type === 'history' || f.type === 'history_unavailable');
  const command = async (frame: Frame): Promise<Frame> => {
    const id = (frame['client_msg_id'] as string | undefined) ?? cid();
    const from = c.frames.length;
    c.send({ ...frame, client_msg_id: id });
    return c.next((f) => (f.type === 'ack' || f.type === 'error') && f['client_msg_id'] === id, 15_000, from);
  };
  const ok = async (frame: Frame): Promise<string> => {
    const r = await command(frame);
    assert.equal(r.type, 'ack', `expected an ack for ${JSON.stringify(frame)}, got ${JSON.stringify(r)}`);
    return r['id'] as string;
  };
  const refused = async (frame: Frame): Promise<string> => {
    const r = await command(frame);
    assert.equal(r.type, 'error', `expected an error for ${JSON.stringify(frame)}`);
    return r['code'] as string;
  };
  /** The latest message_updated for `id` that satisfies `pred`. */
  const updated = (id: string, pred: (m: Message) => boolean = () => true) =>
    eventually(async () => [...c.frames].reverse().find((f) => f.type === 'message_updated' && (f['message'] as Message).id === id && pred(f['message'] as Message))?.['message'] as Message | undefined, 20_000, 20);
  return { c, command, ok, refused, updated };
}

/** Every message of a room in one keyspace, in its current state (as nobody in particular sees it). */
async function cqlState(client: cassandra.Client, keyspace: string, roomId: string, ids: readonly string[]): Promise<Map<string, Message>> {
  const tables = new MessageTables(keyspace);
  const out = new Map<string, Message>();
  for (const id of ids) {
    const rs = await client.execute(tables.selectOne, [roomId, tables.bucketOf(BigInt(id)), long(id)], { prepare: true });
    const row = rs.first();
    const m = row ? messageOfRow(row) : undefined;
    if (m) out.set(id, m);
  }
  return out;
}

async function esDocs(sys: System, alias: string, roomId: string): Promise<Map<string, Record<string, unknown>>> {
  await sys.elastic.indices.refresh({ index: alias });
  const res = await sys.elastic.search<Record<string, unknown>>({ index: alias, size: 1000, query: { term: { room_id: roomId } }, sort: [{ seq: 'asc' }] });
  return new Map(res.hits.hits.map((h) => [h._id!, h._source!]));
}

test('messages change through the whole pipeline: edits, deletes, reactions, replies, mentions, catch-up, erasure, replay', { timeout: 420_000 }, async (t) => {
  const defer = deferrer(t);
  const sys = await startSystem({ edges: 2, env: { REALTIME_SENDS_PER_USER: '1000', REALTIME_MAX_STRIKES: '100' } });
  defer(() => sys.stop());
  const carolName = `carol${randomBytes(4).toString('hex')}`;
  const [alice, bob, carol] = await Promise.all([sys.signUp(), sys.signUp(), sys.signUp(carolName)]);
  const room = (await alice.rest.createRoom('lifecycle', 'public')).id;
  const other = (await alice.rest.createRoom('elsewhere', 'public')).id;
  await bob.rest.joinRoom(room);
  await carol.rest.joinRoom(room);
  const a = await open(sys, 0, room, alice);
  const b = await open(sys, 1, room, bob);
  const cl = await open(sys, 1, room, carol);
  const tag = `t${randomBytes(4).toString('hex')}`;

  // A message of bob's that mentions carol, edited: every edge shows the new state.
  const m1 = await b.ok({ type: 'send', body: `first draft ${tag}old hello @${carolName}` });
  const live = await a.c.next((f) => f.type === 'message' && (f['message'] as Message).id === m1);
  assert.deepEqual((live['message'] as Message).mentions, [carol.user.id], '@username resolved to the user id when sent');

  await t.test('edit: only the author, the version grows, every edge gets the whole new state', async () => {
    assert.equal(await a.refused({ type: 'edit', message_id: m1, body: 'not mine' }), 'not_author');
    await b.ok({ type: 'edit', message_id: m1, body: `second draft ${tag}new hello` });
    for (const s of [a, b, cl]) {
      const m = await s.updated(m1, (x) => x.version === 2);
      assert.equal(m.body, `second draft ${tag}new hello`);
      assert.ok(m.edited_at! >= m.created_at);
      assert.equal(m.mentions, undefined, 'the new body mentions nobody');
    }
    const versions = await eventually(async () => {
      const r = await fetch(`${sys.urls.query}/v1/rooms/${room}/messages/${m1}/versions`, { headers: { authorization: `Bearer ${carol.token}` } });
      const v = (await r.json()) as { versions: Array<{ version: number; body: string }> };
      return v.versions?.length === 2 ? v : undefined;
    });
    assert.deepEqual(versions.versions.map((v) => v.body), [`first draft ${tag}old hello @${carolName}`, `second draft ${tag}new hello`], 'members read the version history');
  });

  await t.test('reactions: a retry counts once, one per member and emoji, `me` is the reader\'s', async () => {
    const retry = cid();
    const acks = new Set<string>();
    for (let i = 0; i < 5; i++) acks.add(await a.ok({ type: 'react', message_id: m1, emoji: '👍', on: true, client_msg_id: retry }));
    assert.equal(acks.size, 1, 'five retries, one event');
    await b.ok({ type: 'react', message_id: m1, emoji: '👍', on: true });
    await a.ok({ type: 'react', message_id: m1, emoji: '🎉', on: true });
    await a.ok({ type: 'react', message_id: m1, emoji: '🎉', on: false });
    await a.ok({ type: 'react', message_id: m1, emoji: '👍', on: true }); // twice on: still one
    const seenByA = await a.updated(m1, (m) => m.reactions?.length === 1 && m.reactions[0]!.count === 2);
    assert.deepEqual(seenByA.reactions, [{ emoji: '👍', count: 2, me: true }]);
    const seenByC = await cl.updated(m1, (m) => m.reactions?.[0]?.count === 2 && !m.reactions.some((r) => r.emoji === '🎉'));
    assert.deepEqual(seenByC.reactions, [{ emoji: '👍', count: 2, me: false }], 'carol did not react');
    const stored = await eventually(async () => {
      const page = await carol.rest.latest(room, { limit: 50 });
      const m = page.messages.find((x) => x.id === m1);
      return m?.reactions?.[0]?.count === 2 && m.reactions.length === 1 ? m : undefined;
    });
    assert.equal(stored.reactions![0]!.me, false);
  });

  await t.test('replies: the parent counts them, the thread reads page by page', async () => {
    const r1 = await cl.ok({ type: 'send', body: 'a reply', reply_to: m1 });
    const r2 = await a.ok({ type: 'send', body: 'another reply', reply_to: m1 });
    const parent = await b.updated(m1, (m) => m.reply_count === 2);
    assert.equal(parent.last_reply_id, [r1, r2].sort((x, y) => (BigInt(x) < BigInt(y) ? -1 : 1))[1]);
    const first = await fetch(`${sys.urls.query}/v1/rooms/${room}/messages/${m1}/thread?limit=1`, { headers: { authorization: `Bearer ${bob.token}` } }).then((r) => r.json() as Promise<{ messages: Message[]; has_more: boolean }>);
    assert.equal(first.messages.length, 1);
    assert.equal(first.has_more, true);
    const rest = await fetch(`${sys.urls.query}/v1/rooms/${room}/messages/${m1}/thread?after_id=${first.messages[0]!.id}`, { headers: { authorization: `Bearer ${bob.token}` } }).then((r) => r.json() as Promise<{ messages: Message[]; has_more: boolean }>);
    assert.deepEqual([...first.messages, ...rest.messages].map((m) => m.id).sort(), [r1, r2].sort());
    assert.equal(rest.has_more, false);
  });

  const gone = await b.ok({ type: 'send', body: `to be deleted ${tag}gone` });
  const mine = await a.ok({ type: 'send', body: `alice's own ${tag}alice` });

  await t.test('delete: the author or the owner; a tombstone everywhere; nothing more can change it', async () => {
    assert.equal(await cl.refused({ type: 'delete', message_id: gone }), 'not_allowed');
    await a.ok({ type: 'delete', message_id: gone }); // alice owns the room
    const tomb = await b.updated(gone, (m) => m.deleted_at !== undefined);
    assert.equal(tomb.body, '');
    assert.equal(await b.refused({ type: 'edit', message_id: gone, body: 'revive' }), 'message_deleted');
    assert.equal(await b.refused({ type: 'react', message_id: gone, emoji: '👍', on: true }), 'message_deleted');
  });

  await t.test('bad input on every new frame: a clear code, nothing logged', async () => {
    const old = firstIdAt(Date.now() - 3600_000).toString();
    const inOther = await (await open(sys, 0, other, alice)).ok({ type: 'send', body: 'in another room' });
    const before = b.c.frames.length;
    const cases: Array<[Frame, string]> = [
      [{ type: 'edit', message_id: old, body: 'x' }, 'message_not_found'],
      [{ type: 'edit', message_id: inOther, body: 'x' }, 'message_not_found'],
      [{ type: 'edit', message_id: 'abc', body: 'x' }, 'invalid_message_id'],
      [{ type: 'edit', message_id: m1, body: '   ' }, 'body_empty'],
      [{ type: 'edit', message_id: m1, body: 'x'.repeat(5000) }, 'body_too_large'],
      [{ type: 'delete', message_id: old }, 'message_not_found'],
      [{ type: 'react', message_id: m1, emoji: 'abc', on: true }, 'invalid_emoji'],
      [{ type: 'react', message_id: m1, emoji: '👍👍', on: true }, 'invalid_emoji'],
      [{ type: 'react', message_id: m1, emoji: '👍', on: 'yes' }, 'invalid_frame'],
      [{ type: 'react', message_id: inOther, emoji: '👍', on: true }, 'message_not_found'],
      [{ type: 'send', body: 'reply elsewhere', reply_to: inOther }, 'reply_not_found'],
      [{ type: 'send', body: 'reply to nothing', reply_to: old }, 'reply_not_found'],
      [{ type: 'edit', message_id: m1, body: 'x', extra: 1 }, 'invalid_frame'],
    ];
    for (const [frame, code] of cases) assert.equal(await b.refused(frame), code, JSON.stringify(frame).slice(0, 80));
    // A reused client_msg_id for another kind of command is refused, not taken as a retry.
    const used = cid();
    await b.ok({ type: 'react', message_id: m1, emoji: '🙂', on: true, client_msg_id: used });
    assert.equal(await b.refused({ type: 'edit', message_id: m1, body: 'x', client_msg_id: used }), 'invalid_client_msg_id');
    // A bounded number of distinct emoji per message.
    const emoji = ['😀', '😃', '😄', '😁', '😆', '😅', '🤣', '😂', '🙂', '🙃', '😉', '😊', '😇', '🥰', '😍', '🤩', '😘', '😗', '😚', '😙', '😋', '😛'];
    const target = mine;
    const results: string[] = [];
    for (const e of emoji) {
      const r = await a.command({ type: 'react', message_id: target, emoji: e, on: true });
      results.push(r.type === 'ack' ? 'ack' : (r['code'] as string));
      if (r.type === 'ack') await a.updated(target, (m) => m.reactions?.some((x) => x.emoji === e) ?? false);
    }
    assert.equal(results.filter((r) => r === 'ack').length, MAX_DISTINCT_REACTIONS);
    assert.deepEqual(results.slice(MAX_DISTINCT_REACTIONS), ['too_many_reactions', 'too_many_reactions']);
    assert.ok(b.c.frames.slice(before).every((f) => f.type !== 'message'), 'no refused command became a message');
  });

  await t.test('an edit racing its own create is not lost; concurrent edits from two edges settle the same in both stores', async () => {
    const fresh = await b.ok({ type: 'send', body: `racing ${tag}race0` });
    await b.ok({ type: 'edit', message_id: fresh, body: `raced ${tag}race1` }); // at once: the store may not hold it yet
    const b2 = await open(sys, 0, room, bob);
    const edits = await Promise.all([0, 1, 2, 3].map((i) => (i % 2 ? b : b2).ok({ type: 'edit', message_id: fresh, body: `concurrent ${i} ${tag}race${i + 2}` })));
    const newest = [...edits].sort((x, y) => (BigInt(x) < BigInt(y) ? -1 : 1)).at(-1)!;
    const final = await a.updated(fresh, (m) => m.version === 6);
    const expected = [0, 1, 2, 3].map((i) => `concurrent ${i} ${tag}race${i + 2}`)[edits.indexOf(newest)];
    assert.equal(final.body, expected, 'the edit with the newest id wins, whatever order they arrived in');
    const alias = elasticNames(sys.names.esPrefix).alias;
    const doc = await eventually(async () => {
      const d = (await esDocs(sys, alias, room)).get(fresh);
      return d?.['version'] === 6 ? d : undefined;
    });
    assert.equal(doc['body'], expected, 'Elasticsearch settles on the same body');
  });

  await t.test('search finds an edited message by its new words only, and a deleted one not at all; mentions filter', async () => {
    await eventually(async () => ((await carol.rest.search(room, `${tag}new`)).messages.length === 1 ? true : undefined), 30_000, 250);
    assert.deepEqual((await carol.rest.search(room, `${tag}old`)).messages, [], 'the old words are gone from search');
    assert.deepEqual((await carol.rest.search(room, `${tag}gone`)).messages, [], 'a deleted message is not found');
    const history = await carol.rest.history(room, { order: 'oldest', limit: 200 });
    const tomb = history.messages.find((m) => m.id === gone);
    assert.ok(tomb?.deleted_at && tomb.body === '', 'history shows the deleted message as deleted');
    const found = history.messages.find((m) => m.id === m1);
    assert.equal(found?.reactions?.[0]?.count, 2, 'history answers carry the current reactions');
    assert.equal(found?.reply_count, 2);
    const m2 = await cl.ok({ type: 'send', body: `ping @${carolName} and @${carolName} again` });
    const mentions = await eventually(async () => {
      const r = await fetch(`${sys.urls.query}/v1/mentions`, { headers: { authorization: `Bearer ${carol.token}` } }).then((x) => x.json() as Promise<{ messages: Message[] }>);
      return r.messages.some((m) => m.id === m2) ? r : undefined;
    }, 30_000, 250);
    assert.ok(!mentions.messages.some((m) => m.id === m1), 'm1 no longer mentions carol after its edit');
    const filtered = await fetch(`${sys.urls.query}/v1/rooms/${room}/messages?mention=${carol.user.id}`, { headers: { authorization: `Bearer ${bob.token}` } }).then((x) => x.json() as Promise<{ messages: Message[] }>);
    assert.deepEqual(filtered.messages.map((m) => m.id), [m2]);
  });

  await t.test('catch-up includes changes: a client back with last_id gets the edits, deletes and reactions it missed, after the stream forgot them', async () => {
    const lastSeen = mine;
    cl.c.close();
    await a.ok({ type: 'react', message_id: m1, emoji: '🔥', on: true });
    await b.ok({ type: 'edit', message_id: m1, body: `third draft ${tag}third` });
    await a.ok({ type: 'delete', message_id: mine });
    const afterwards = await b.updated(m1, (m) => m.version === 3 && (m.reactions?.some((r) => r.emoji === '🔥') ?? false));
    await b.updated(mine, (m) => m.deleted_at !== undefined);
    // As if the stream's retention had dropped them: the room's events are purged from it.
    await sys.nats.jsm.streams.purge(sys.names.stream, { filter: `${sys.names.prefix}.room.${room}.*` });
    const back = await open(sys, 0, room, carol, lastSeen);
    const got = back.c.frames.filter((f) => f.type === 'message_updated').map((f) => f['message'] as Message);
    const m1Now = got.filter((m) => m.id === m1).at(-1);
    assert.equal(m1Now?.body, afterwards.body, 'the edit made while away');
    assert.ok(m1Now?.reactions?.some((r) => r.emoji === '🔥'), 'the reaction made while away');
    assert.ok(got.some((m) => m.id === mine && m.deleted_at !== undefined), 'the delete made while away');
  });

  await t.test('a retry long after the stream forgot its key is still answered with the first id', async () => {
    const key = cid();
    const first = await b.ok({ type: 'send', body: 'sent once', client_msg_id: key });
    await eventually(async () => ((await bob.rest.latest(room, { limit: 5 })).messages.some((m) => m.id === first) ? true : undefined));
    // Forget the stream's duplicate window: the durable key in Cassandra must answer.
    const info = await sys.nats.jsm.streams.info(sys.names.stream);
    await sys.nats.jsm.streams.update(sys.names.stream, { ...info.config, duplicate_window: 1_000_000_000 });
    await new Promise((r) => setTimeout(r, 1500));
    const frames = b.c.frames.length;
    assert.equal(await b.ok({ type: 'send', body: 'sent once', client_msg_id: key, retry: true }), first);
    await new Promise((r) => setTimeout(r, 500));
    assert.ok(!b.c.frames.slice(frames).some((f) => f.type === 'message'), 'no second message');
    await sys.nats.jsm.streams.update(sys.names.stream, info.config);
  });

  await t.test('erasure: every message of a user, from both stores; a replay of the whole log into fresh stores gives the same state', async () => {
    const before = await carol.rest.latest(room, { limit: 200 });
    const carols = before.messages.filter((m) => m.sender_id === carol.user.id).map((m) => m.id);
    assert.ok(carols.length >= 2);
    const res = await fetch(`${sys.urls.query}/v1/admin/erasures`, { method: 'POST', headers: { authorization: `Bearer ${sys.adminToken}`, 'content-type': 'application/json' }, body: JSON.stringify({ user_id: carol.user.id }) });
    assert.equal(res.status, 200);
    const report = (await res.json()) as { rooms: Array<{ room_id: string; messages: number }>; messages: number };
    assert.deepEqual(report.rooms.map((r) => r.room_id), [room]);
    assert.equal(report.messages, carols.length);
    const forbidden = await fetch(`${sys.urls.query}/v1/admin/erasures`, { method: 'POST', headers: { authorization: `Bearer ${carol.token}`, 'content-type': 'application/json' }, body: JSON.stringify({ user_id: carol.user.id }) });
    assert.equal(forbidden.status, 403, 'a user session is not the operator token');
    await eventually(async () => ((await bob.rest.latest(room, { limit: 200 })).messages.some((m) => carols.includes(m.id)) ? undefined : true), 30_000, 250);
    const alias = elasticNames(sys.names.esPrefix).alias;
    await eventually(async () => ([...(await esDocs(sys, alias, room)).keys()].some((id) => carols.includes(id)) ? undefined : true), 30_000, 250);

    // Replay: fresh projections from offset 0 of the same topic.
    const ids = (await bob.rest.latest(room, { limit: 200 })).messages.map((m) => m.id).concat(carols);
    const fresh = uniqueName('replay');
    const ks = await migratedKeyspace(fresh);
    defer(ks.drop);
    await installElasticTemplates(sys.elastic, fresh);
    defer(() => removeElasticTemplates(sys.elastic, fresh));
    const env = pipelineEnv(sys.names, { CASSANDRA_KEYSPACE: fresh, ELASTICSEARCH_INDEX_PREFIX: fresh, CQL_ANNOUNCE_CHANGES: 'false' });
    const cqlRunner = await runService(cqlCommandService, { ...env, KAFKA_GROUP_ID: `${fresh}.cql` });
    defer(() => cqlRunner.stop(10_000));
    const esRunner = await runService(elasticCommandService, { ...env, KAFKA_GROUP_ID: `${fresh}.es` });
    defer(() => esRunner.stop(10_000));
    const original = await cqlState(sys.cassandra, sys.names.keyspace, room, ids);
    await eventually(async () => ((await cqlState(ks.client, fresh, room, ids)).size === original.size ? true : undefined), 60_000, 500);
    assert.deepEqual(await cqlState(ks.client, fresh, room, ids), original, 'Cassandra: the same state from the log alone');
    assert.ok(!carols.some((id) => original.has(id)), 'and the erasure holds in the replay');
    const docs = await esDocs(sys, alias, room);
    const replayed = await eventually(async () => {
      const d = await esDocs(sys, elasticNames(fresh).alias, room);
      return d.size === docs.size && [...d.values()].every((x, i) => JSON.stringify(x) === JSON.stringify([...docs.values()][i])) ? d : undefined;
    }, 60_000, 500).catch(() => undefined);
    assert.deepEqual(replayed && [...replayed.entries()], [...docs.entries()], 'Elasticsearch: the same documents from the log alone');
  });
});
