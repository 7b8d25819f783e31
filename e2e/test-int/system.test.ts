/**
 * Parley end to end: all seven services as their own processes on the real servers (random
 * names and ports, see e2e/system.ts), driven only through their public doors, as clients drive
 * them: REST on user-svc, room-svc and chat-query-svc and WebSockets on two edge instances through
 * @parley/client, gRPC on chat-query-svc. Sockets record the raw frames too, so "once" below is
 * what the edges sent, not what the SDK's dropping of repeats left over.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import { status as grpcStatus } from '@grpc/grpc-js';
import { ApiError, RoomSocket, type Message, type WebSocketConstructor } from '@parley/client';
import type { ServerFrame } from '@parley/contracts';
import { deferrer, eventually } from '@parley/test-support';
import { queryGrpcClient } from '@parley/test-support/query-svc';
import { Client } from '@parley/test-support/realtime-svc';
import { startSystem, type Member } from '../system.js';

type Defer = ReturnType<typeof deferrer>;
const PER_USER = 15;

/**
 * The edge's refusal of a WebSocket upgrade as `{status, code}` (undefined when accepted). A raw
 * handshake: what is checked here is the edge's HTTP answer, which a browser never shows a client.
 */
async function refusal(url: string, token: string | undefined): Promise<{ status: number; code: string } | undefined> {
  try {
    (await Client.open(url, token)).close();
    return undefined;
  } catch (err) {
    const e = err as { status?: number; body?: { error?: { code?: string } } };
    return { status: e.status ?? 0, code: e.body?.error?.code ?? '' };
  }
}

/** `ws`, plus a copy of every frame the edge sent, before RoomSocket reads it. */
function recordingWebSocket(frames: ServerFrame[]): WebSocketConstructor {
  return class Recording extends WebSocket {
    constructor(url: string, protocols: string[], options?: { headers: Record<string, string> }) {
      super(url, protocols, options);
      this.addEventListener('message', (e) => void frames.push(JSON.parse(String(e.data)) as ServerFrame));
    }
  };
}

/** One member's RoomSocket on one edge, with what it received and a send that waits for the ack. */
function joinRoom(defer: Defer, edgeUrl: string, roomId: string, who: Member, opts: { resumeFrom?: string } = {}) {
  const frames: ServerFrame[] = [];
  const socket = new RoomSocket({ roomId, url: edgeUrl, token: who.token, tokenVia: 'header', WebSocket: recordingWebSocket(frames), ...opts });
  const acks = new Map<string, string>();
  socket.on('ack', (a) => void acks.set(a.clientMsgId, a.id));
  defer(() => socket.stop());
  socket.start();
  const messages = (): Message[] => frames.flatMap((f) => (f.type === 'message' ? [f.message] : []));
  return {
    socket,
    /** Live messages as the edge sent them, repeats included. */
    messages,
    historyIds: () => frames.flatMap((f) => (f.type === 'history' ? f.messages.map((m) => m.id) : [])),
    live: () => eventually(async () => socket.state === 'live' && frames.some((f) => f.type === 'history'), 10_000, 20),
    sawLive: (id: string) => eventually(async () => messages().some((m) => m.id === id), 10_000, 20),
    sendAndAck: (body: string) => {
      const cid = socket.send(body);
      return eventually(async () => acks.get(cid), 10_000, 10);
    },
  };
}

const ids = (msgs: Array<{ id: string }>) => msgs.map((m) => m.id);
const byId = (a: string, b: string) => (BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : 0);
const apiStatus = (p: Promise<unknown>) => p.then(() => 200, (err: unknown) => (err instanceof ApiError ? err.status : -1));

test('two users on two edges chat; every acknowledged message is delivered, stored, listed, searchable; outsiders are refused', { timeout: 180_000 }, async (t) => {
  const defer = deferrer(t);
  const sys = await startSystem({ edges: 2 });
  defer(() => sys.stop());
  const { urls } = sys;
  const grpc = queryGrpcClient(defer, urls.queryGrpc);
  const [alice, bob, eve] = await Promise.all([sys.signUp(), sys.signUp(), sys.signUp()]);

  const room = await alice.rest.createRoom('e2e', 'public');
  const roomId = room.id;
  assert.equal(room.role, 'owner');
  assert.equal(await bob.rest.joinRoom(roomId), 'member');
  const wsPath = (edge: number) => `${urls.edges[edge]}/v1/rooms/${roomId}/ws`;

  const a = joinRoom(defer, urls.edges[0]!, roomId, alice);
  const b = joinRoom(defer, urls.edges[1]!, roomId, bob);
  await Promise.all([a.live(), b.live()]);

  // Every body carries a word unique to this run and one unique to the message, for search.
  const tag = `w${randomBytes(5).toString('hex')}`;
  const body = (who: string, i: number) => `hello ${tag} from ${who} number ${i} ${tag}${who}${i}`;
  const sendAll = async (c: ReturnType<typeof joinRoom>, who: string) => {
    const out: string[] = [];
    for (let i = 0; i < PER_USER; i++) out.push(await c.sendAndAck(body(who, i)));
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
    assert.equal(one?.senderId, alice.user.id);
  });

  await t.test('search over REST (Elasticsearch) finds every message and each one by its own word', async () => {
    const all = await eventually(async () => {
      const page = await alice.rest.search(roomId, tag, { limit: 200 });
      return page.messages.length >= acked.length ? page.messages : undefined;
    }, 60_000, 250);
    assert.deepEqual(ids(all).sort(byId), acked);
    const single = await alice.rest.search(roomId, `${tag}bob7`);
    assert.deepEqual(ids(single.messages), [fromBob[7]]);
    const history = await bob.rest.history(roomId, { order: 'oldest', limit: 200 });
    assert.deepEqual(ids(history.messages), acked);
  });

  await t.test('rejoining on the other edge shows the whole history; resuming shows only what came after', async () => {
    b.socket.stop();
    const again = joinRoom(defer, urls.edges[0]!, roomId, bob);
    await again.live();
    assert.deepEqual(again.historyIds(), acked);
    const resumed = joinRoom(defer, urls.edges[1]!, roomId, bob, { resumeFrom: acked[9]! });
    await resumed.live();
    // A resume may repeat the seconds before last_id (clock skew between edges); drop repeats by id.
    const had = new Set(acked.slice(0, 10));
    assert.deepEqual(resumed.historyIds().filter((id) => !had.has(id)), acked.slice(10));
    const later = await a.sendAndAck(body('alice', 99));
    await again.sawLive(later);
    await resumed.sawLive(later);
  });

  await t.test('a non-member is refused everywhere: both edges, gRPC, REST history and search, members', async () => {
    for (const edge of [0, 1]) assert.deepEqual(await refusal(wsPath(edge), eve.token), { status: 403, code: 'FORBIDDEN' });
    await assert.rejects(grpc.list(eve.token, { roomId, limit: 10 }), (err: { code?: number }) => err.code === grpcStatus.PERMISSION_DENIED);
    const forbidden = (err: unknown) => err instanceof ApiError && err.status === 403 && err.code === 'FORBIDDEN';
    await assert.rejects(eve.rest.search(roomId, tag), forbidden, 'search');
    await assert.rejects(eve.rest.history(roomId), forbidden, 'history');
    assert.equal(await apiStatus(eve.rest.members(roomId)), 403);
  });

  await t.test('without a session nothing answers: edge 401, gRPC UNAUTHENTICATED, REST 401', async () => {
    assert.equal((await refusal(wsPath(0), undefined))?.status, 401);
    await assert.rejects(grpc.list(undefined, { roomId, limit: 10 }), (err: { code?: number }) => err.code === grpcStatus.UNAUTHENTICATED);
    assert.equal(await apiStatus(sys.rest().search(roomId, tag)), 401);
  });
});
