/**
 * RoomSocket and RestClient against the real services (user-svc, room-svc, edges on NATS and
 * Redis; the realtime test stack of cmd/chat-realtime-svc), driven as a Node client drives them:
 * the `ws` package's WebSocket, the token in a header or a subprotocol.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { deferrer, eventually, uniqueName } from '@parley/test-support';
import { startStack } from '@parley/test-support/realtime-svc';
import { RestClient, RoomSocket, refusalFromRest, type Message, type RoomSocketEvents, type RoomSocketOptions, type WebSocketConstructor } from '../src/index.js';
import { lossyWebSocket } from './lossy-web-socket.js';

type Defer = ReturnType<typeof deferrer>;
const PASSWORD = 'correct horse battery';

async function signedIn(usersUrl: string, roomsUrl: string): Promise<{ rest: RestClient; id: string }> {
  const rest = new RestClient({ endpoints: { users: usersUrl, rooms: roomsUrl, query: 'http://127.0.0.1:9' } });
  const name = uniqueName('c').slice(0, 30);
  await rest.register(name, PASSWORD, `Client ${name.slice(-4)}`);
  const s = await rest.login(name, PASSWORD);
  return { rest, id: s.user.id };
}

/** A RoomSocket that records what it delivers; `opens` counts the sockets it created. */
function recorded(defer: Defer, opts: Omit<RoomSocketOptions, 'WebSocket'> & { WebSocket?: RoomSocketOptions['WebSocket'] }) {
  const counter = { opens: 0 };
  const Base: WebSocketConstructor = opts.WebSocket ?? WebSocket;
  const Counting = function (this: unknown, url: string, protocols: string[], options?: { headers: Record<string, string> }) {
    counter.opens++;
    return new Base(url, protocols, options);
  } as unknown as WebSocketConstructor;
  const socket = new RoomSocket({ backoff: { initialMs: 100, maxMs: 400, jitter: 0.25 }, ...opts, WebSocket: Counting });
  defer(() => socket.stop());
  const delivered: Message[] = [];
  const events = {
    state: [] as Array<RoomSocketEvents['state']>,
    history: [] as Array<RoomSocketEvents['history']>,
    ack: [] as Array<RoomSocketEvents['ack']>,
    closed: [] as Array<RoomSocketEvents['closed']>,
  };
  socket.on('state', (v) => events.state.push(v));
  socket.on('history', (v) => events.history.push(v));
  socket.on('ack', (v) => events.ack.push(v));
  socket.on('closed', (v) => events.closed.push(v));
  socket.on('history', (h) => delivered.push(...h.messages));
  socket.on('message', (m) => delivered.push(m));
  const live = () => eventually(async () => socket.state === 'live', 10_000, 10);
  const acked = (clientMsgId: string) => eventually(async () => events.ack.find((a) => a.clientMsgId === clientMsgId)?.id, 10_000, 10);
  return { socket, delivered, events, counter, live, acked };
}

test('RoomSocket against the real edges', { timeout: 120_000 }, async (t) => {
  const defer = deferrer(t);
  const stack = await startStack(defer);
  const [alice, bob] = [await signedIn(stack.users.http, stack.rooms.http), await signedIn(stack.users.http, stack.rooms.http)];
  const room = await alice.rest.createRoom('sdk', 'public');
  assert.equal(room.role, 'owner');
  assert.equal(await bob.rest.joinRoom(room.id), 'member');
  assert.deepEqual((await alice.rest.members(room.id)).map((m) => m.role).sort(), ['member', 'owner']);
  assert.ok((await bob.rest.listRooms('mine')).some((r) => r.id === room.id && r.role === 'member'));

  await t.test('after the edge closes with 1012, the resume delivers what was missed, once', async () => {
    const edges = [await stack.startEdge(), await stack.startEdge()];
    let at = 0;
    // Away long enough for every missed message to be stored before she is back.
    const away = { initialMs: 1500, maxMs: 1500, jitter: 0 };
    const a = recorded(defer, { roomId: room.id, url: () => edges[at]!.url, token: alice.rest.token, tokenVia: 'header', selfId: alice.id, backoff: away });
    const b = recorded(defer, { roomId: room.id, url: edges[1]!.url, token: bob.rest.token, tokenVia: 'protocol', selfId: bob.id });
    a.socket.start();
    b.socket.start();
    await Promise.all([a.live(), b.live()]);
    const before = await Promise.all(['one', 'two'].map(async (w) => b.acked(b.socket.send(`before ${w}`))));
    await eventually(async () => a.delivered.length >= 2, 10_000, 10);

    at = 1;
    await edges[0]!.stop();
    assert.equal(a.events.state.find((s) => s.state === 'reconnecting' && s.code !== undefined)?.code, 1012);
    // Sent while alice is away: her resume (with last_id) must bring these.
    const missed = await Promise.all(['three', 'four', 'five'].map(async (w) => b.acked(b.socket.send(`missed ${w}`))));
    await a.live();
    const after = await b.acked(b.socket.send('after the resume'));
    const all = [...before, ...missed, after];
    await eventually(async () => all.every((id) => a.delivered.some((m) => m.id === id)), 10_000, 10);
    const ids = a.delivered.map((m) => m.id);
    assert.deepEqual(ids.filter((id) => all.includes(id)), all, 'each once, in order');
    assert.equal(new Set(ids).size, ids.length, 'no repeats');
    assert.equal(a.events.history.length, 2);
    assert.equal(a.events.history[1]?.resumed, true);
    const replayed = a.events.history[1]!.messages.map((m) => m.id);
    assert.deepEqual(replayed.filter((id) => missed.includes(id)), missed, 'the missed ones came in the resume history');
    assert.equal(a.counter.opens, 2);
    a.socket.stop();
    b.socket.stop();
  });

  await t.test('a send whose ack was lost is resent after the reconnect and stored once, under the same id', async () => {
    const edge = await stack.startEdge();
    const lossy = lossyWebSocket();
    const a = recorded(defer, { roomId: room.id, url: edge.url, token: alice.rest.token, tokenVia: 'header', WebSocket: lossy.Ctor });
    a.socket.start();
    await a.live();
    lossy.dropAckOf = a.socket.send('said once, acked twice');
    const id = await a.acked(lossy.dropAckOf);
    assert.equal(lossy.droppedAckId, id, 'the resend is acked with the first copy id');
    assert.ok(a.counter.opens >= 2, 'it reconnected (a loaded machine may take a second try)');
    const stored = (await stack.streamed(room.id)).filter((e) => e.client_msg_id === lossy.dropAckOf);
    assert.deepEqual(stored.map((e) => e.id), [id], 'one message in the stream');
    a.socket.stop();
  });

  await t.test('4401 after a logout stops reconnecting and asks for a login', async () => {
    const edge = await stack.startEdge();
    const c = await signedIn(stack.users.http, stack.rooms.http);
    await c.rest.joinRoom(room.id);
    const s = recorded(defer, { roomId: room.id, url: edge.url, token: c.rest.token, explainRefusal: refusalFromRest(c.rest, room.id) });
    s.socket.start();
    await s.live();
    await c.rest.logout();
    const closed = await eventually(async () => s.events.closed[0], 10_000, 10);
    assert.deepEqual(closed, { advice: 'login', reason: 'session_ended', code: 4401 });
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(s.counter.opens, 1, 'no reconnect with the ended session');
    assert.equal(s.socket.state, 'closed');
  });

  await t.test('a deleted room ends the socket; a refused handshake is explained over REST', async () => {
    const edge = await stack.startEdge();
    const gone = await alice.rest.createRoom('short-lived', 'public');
    await bob.rest.joinRoom(gone.id);
    const s = recorded(defer, { roomId: gone.id, url: edge.url, token: bob.rest.token, explainRefusal: refusalFromRest(bob.rest, gone.id) });
    s.socket.start();
    await s.live();
    await alice.rest.deleteRoom(gone.id);
    assert.deepEqual(await eventually(async () => s.events.closed[0], 10_000, 10), { advice: 'stop', reason: 'deleted', code: 4404 });
    const again = recorded(defer, { roomId: gone.id, url: edge.url, token: bob.rest.token, explainRefusal: refusalFromRest(bob.rest, gone.id) });
    again.socket.start();
    assert.deepEqual(await eventually(async () => again.events.closed[0], 10_000, 10), { advice: 'stop', reason: 'deleted', code: 1006 });
    assert.equal(again.counter.opens, 1);
  });
});
