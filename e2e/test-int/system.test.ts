/**
 * Parley end to end: all seven services as their own processes on the real servers (random
 * names and ports, see e2e/system.ts), driven only through their public doors: REST on
 * user-svc, room-svc and chat-query-svc, WebSocket on two edge instances, gRPC on chat-query-svc.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { status as grpcStatus } from '@grpc/grpc-js';
import { deferrer, eventually } from '@parley/test-support';
import { call, newUser } from '../../cmd/user-svc/test-int/harness.js';
import { queryGrpcClient } from '../../cmd/chat-query-svc/test-int/harness.js';
import { Client, sendAndAck, type Frame } from '../../cmd/chat-realtime-svc/test-int/harness.js';
import { startSystem } from '../system.js';

const PER_USER = 15;

/** Refusal of a WebSocket upgrade, as `{status, code}`, or undefined when it was accepted. */
async function refusal(url: string, token: string | undefined): Promise<{ status: number; code: string } | undefined> {
  try {
    (await Client.open(url, token)).close();
    return undefined;
  } catch (err) {
    const e = err as { status?: number; body?: { error?: { code?: string } } };
    return { status: e.status ?? 0, code: e.body?.error?.code ?? '' };
  }
}

const ids = (msgs: Frame[]) => msgs.map((m) => m['id'] as string);
const byId = (a: string, b: string) => (BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : 0);

test('two users on two edges chat; every acknowledged message is delivered, stored, listed, searchable; outsiders are refused', { timeout: 180_000 }, async (t) => {
  const defer = deferrer(t);
  const sys = await startSystem({ edges: 2 });
  defer(() => sys.stop());
  const { urls } = sys;
  const grpc = queryGrpcClient(defer, urls.queryGrpc);
  const [alice, bob, eve] = await Promise.all([newUser(urls.user), newUser(urls.user), newUser(urls.user)]);

  const created = await call(urls.room, 'POST', '/v1/rooms', { token: alice.token, body: { name: 'e2e', visibility: 'public' } });
  assert.equal(created.status, 201);
  const roomId: string = created.body.room.id;
  assert.equal((await call(urls.room, 'POST', `/v1/rooms/${roomId}/join`, { token: bob.token })).status, 200);
  const wsPath = (edge: number) => `${urls.edges[edge]}/v1/rooms/${roomId}/ws`;

  const a = await Client.open(wsPath(0), alice.token);
  defer(() => a.close());
  const b = await Client.open(wsPath(1), bob.token);
  defer(() => b.close());
  await Promise.all([a.next((f) => f.type === 'history'), b.next((f) => f.type === 'history')]);

  // Every body carries a word unique to this run and one unique to the message, for search.
  const tag = `w${randomBytes(5).toString('hex')}`;
  const body = (who: string, i: number) => `hello ${tag} from ${who} number ${i} ${tag}${who}${i}`;
  const sendAll = async (c: Client, who: string) => {
    const out: string[] = [];
    for (let i = 0; i < PER_USER; i++) out.push(await sendAndAck(c, `${who}-${i}`, body(who, i)));
    return out;
  };
  const [fromAlice, fromBob] = await Promise.all([sendAll(a, 'alice'), sendAll(b, 'bob')]);
  const acked = [...fromAlice, ...fromBob].sort(byId);
  assert.equal(new Set(acked).size, 2 * PER_USER, 'every send got its own id');

  await t.test('every acknowledged message reaches both users live, once, in one order', async () => {
    await eventually(async () => a.messages().length >= acked.length && b.messages().length >= acked.length, 20_000);
    assert.deepEqual([...ids(a.messages())].sort(byId), acked);
    assert.deepEqual([...ids(b.messages())].sort(byId), acked);
    assert.deepEqual(ids(a.messages()), ids(b.messages()), 'both edges deliver the room in the stream order');
  });

  await t.test('the query service lists them over gRPC (Cassandra), oldest first, once each', async () => {
    const res = await eventually(async () => {
      const r = await grpc.list(bob.token, { roomId, limit: 200 });
      return r.messages.length >= acked.length ? r : undefined;
    }, 60_000, 250);
    assert.deepEqual(res.messages.map((m) => m.id), acked);
    assert.equal(res.hasMore, false);
    const one = res.messages.find((m) => m.id === fromAlice[3]);
    assert.equal(one?.body, body('alice', 3));
    assert.equal(one?.senderId, alice.id);
  });

  await t.test('search over REST (Elasticsearch) finds every message and each one by its own word', async () => {
    const all = await eventually(async () => {
      const r = await call(urls.query, 'GET', `/v1/rooms/${roomId}/search?q=${tag}&limit=200`, { token: alice.token });
      return r.status === 200 && r.body.messages.length >= acked.length ? r.body.messages : undefined;
    }, 60_000, 250);
    assert.deepEqual(ids(all).sort(byId), acked);
    const single = await call(urls.query, 'GET', `/v1/rooms/${roomId}/search?q=${tag}bob7`, { token: alice.token });
    assert.equal(single.status, 200);
    assert.deepEqual(ids(single.body.messages), [fromBob[7]]);
    const history = await call(urls.query, 'GET', `/v1/rooms/${roomId}/messages?order=oldest&limit=200`, { token: bob.token });
    assert.deepEqual(ids(history.body.messages), acked);
  });

  await t.test('rejoining on the other edge shows the whole history; resuming shows only what came after', async () => {
    b.close();
    const again = await Client.open(wsPath(0), bob.token);
    defer(() => again.close());
    await again.next((f) => f.type === 'history');
    assert.deepEqual(again.historyIds(), acked);
    const resumed = await Client.open(`${wsPath(1)}`, bob.token, { lastId: acked[9]! });
    defer(() => resumed.close());
    await resumed.next((f) => f.type === 'history');
    // A resume may repeat the seconds before last_id (clock skew between edges); drop repeats by id.
    const had = new Set(acked.slice(0, 10));
    assert.deepEqual(resumed.historyIds().filter((id) => !had.has(id)), acked.slice(10));
    const later = await sendAndAck(a, 'alice-late', body('alice', 99));
    await again.next((f) => f.type === 'message' && (f['message'] as Frame)['id'] === later);
    await resumed.next((f) => f.type === 'message' && (f['message'] as Frame)['id'] === later);
  });

  await t.test('a non-member is refused everywhere: both edges, gRPC, REST history and search, members', async () => {
    for (const edge of [0, 1]) assert.deepEqual(await refusal(wsPath(edge), eve.token), { status: 403, code: 'FORBIDDEN' });
    await assert.rejects(grpc.list(eve.token, { roomId, limit: 10 }), (err: { code?: number }) => err.code === grpcStatus.PERMISSION_DENIED);
    for (const path of [`/search?q=${tag}`, '/messages']) {
      const r = await call(urls.query, 'GET', `/v1/rooms/${roomId}${path}`, { token: eve.token });
      assert.equal(r.status, 403, path);
      assert.equal(r.body.error.code, 'FORBIDDEN');
    }
    assert.equal((await call(urls.room, 'GET', `/v1/rooms/${roomId}/members`, { token: eve.token })).status, 403);
  });

  await t.test('without a session nothing answers: edge 401, gRPC UNAUTHENTICATED, REST 401', async () => {
    assert.equal((await refusal(wsPath(0), undefined))?.status, 401);
    await assert.rejects(grpc.list(undefined, { roomId, limit: 10 }), (err: { code?: number }) => err.code === grpcStatus.UNAUTHENTICATED);
    assert.equal((await call(urls.query, 'GET', `/v1/rooms/${roomId}/search?q=${tag}`)).status, 401);
  });
});
