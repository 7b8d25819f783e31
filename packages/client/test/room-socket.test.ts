import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Message } from '@parley/contracts';
import { CommandError, RoomSocket, SendError, type RoomSocketEvents, type RoomSocketOptions, type WebSocketLike } from '../src/index.js';

/** A socket the test plays the edge for: it sees what the client sends and answers by hand. */
class FakeSocket implements WebSocketLike {
  static all: FakeSocket[] = [];
  readyState = 0;
  onopen: ((ev: never) => void) | null = null;
  onmessage: ((ev: never) => void) | null = null;
  onclose: ((ev: never) => void) | null = null;
  onerror: ((ev: never) => void) | null = null;
  readonly sent: Array<Record<string, unknown>> = [];
  closedByClient: number | undefined;

  constructor(
    readonly url: string,
    readonly protocols: string[],
    readonly options?: { headers: Record<string, string> },
  ) {
    FakeSocket.all.push(this);
  }

  send(data: string): void {
    this.sent.push(JSON.parse(data) as Record<string, unknown>);
  }

  close(code?: number): void {
    this.closedByClient = code;
    this.readyState = 3;
  }

  open(): void {
    this.readyState = 1;
    (this.onopen as ((ev: unknown) => void) | null)?.({});
  }

  frame(f: object): void {
    (this.onmessage as ((ev: { data: unknown }) => void) | null)?.({ data: JSON.stringify(f) });
  }

  /** The edge (or the network) ends it. */
  drop(code: number): void {
    this.readyState = 3;
    (this.onclose as ((ev: { code: number; reason: string }) => void) | null)?.({ code, reason: '' });
  }

  sends(): Array<Record<string, unknown>> {
    return this.sent.filter((f) => f['type'] === 'send');
  }
}

const ROOM = '0b6f3c1e-7a2d-4c8e-9f10-2a3b4c5d6e7f';
const SELF = 'u-self';
const msg = (id: number, over: Partial<Message> = {}): Message => ({
  v: 1,
  id: String(id),
  room_id: ROOM,
  sender_id: 'u-other',
  sender_name: 'Other',
  body: `message ${id}`,
  client_msg_id: `x${id}`,
  kind: 'message',
  created_at: 1_717_000_000_000 + id,
  ...over,
});
const history = (ids: number[], hasMore = false) => ({ type: 'history', room_id: ROOM, messages: ids.map((i) => msg(i)), has_more: hasMore });
const tick = (ms = 5) => new Promise((r) => setTimeout(r, ms));

function setup(over: Partial<RoomSocketOptions> = {}) {
  FakeSocket.all = [];
  let n = 0;
  const socket = new RoomSocket({
    roomId: ROOM,
    url: 'ws://edge',
    token: 'tok',
    WebSocket: FakeSocket,
    selfId: SELF,
    backoff: { initialMs: 1, maxMs: 4, jitter: 0 },
    ratePauseMs: 30,
    heartbeatMs: 0,
    newClientMsgId: () => `c${n++}`,
    ...over,
  });
  const events: Array<[keyof RoomSocketEvents, unknown]> = [];
  for (const type of ['state', 'history', 'history_unavailable', 'message', 'message_updated', 'ack', 'pending', 'rate_limited', 'error', 'room_deleted', 'invalid_frame', 'closed', 'presence', 'presence_diff', 'typing', 'receipts', 'unread'] as const) {
    socket.on(type, (v) => events.push([type, v]));
  }
  const of = <K extends keyof RoomSocketEvents>(type: K) => events.filter((e) => e[0] === type).map((e) => e[1] as RoomSocketEvents[K]);
  const last = () => FakeSocket.all.at(-1)!;
  const live = (frame: object = history([])) => {
    last().open();
    last().frame(frame);
  };
  return { socket, of, last, live };
}

test('the token travels as a subprotocol by default, or as a header', () => {
  const a = setup();
  a.socket.start();
  assert.equal(a.last().url, `ws://edge/v1/rooms/${ROOM}/ws`);
  assert.deepEqual(a.last().protocols, ['parley.v1', 'parley.token.tok']);
  assert.equal(a.last().options, undefined);
  a.socket.stop();
  const b = setup({ tokenVia: 'header', url: 'wss://gw/ws/' });
  b.socket.start();
  assert.deepEqual(b.last().protocols, ['parley.v1']);
  assert.deepEqual(b.last().options, { headers: { authorization: 'Bearer tok' } });
  assert.equal(b.last().url, `wss://gw/ws/v1/rooms/${ROOM}/ws`);
  b.socket.stop();
  const c = setup({ token: undefined });
  c.socket.start();
  assert.deepEqual(c.last().protocols, ['parley.v1'], 'cookie auth: nothing but the subprotocol');
  c.socket.stop();
});

test('after 1012 it resumes from the newest id received and delivers each message once', async () => {
  const { socket, of, last, live } = setup();
  socket.start();
  live(history([1, 2]));
  last().frame({ type: 'message', message: msg(3) });
  last().frame({ type: 'message', message: msg(3) });
  last().drop(1012);
  assert.equal(socket.state, 'reconnecting');
  await tick();
  assert.equal(FakeSocket.all.length, 2);
  assert.equal(last().url, `ws://edge/v1/rooms/${ROOM}/ws?last_id=3`);
  live(history([2, 3, 4, 5]));
  last().frame({ type: 'message', message: msg(5) });
  last().frame({ type: 'message', message: msg(6) });
  const histories = of('history');
  assert.deepEqual(histories.map((h) => [h.messages.map((m) => m.id), h.resumed, h.gap]), [[['1', '2'], false, false], [['4', '5'], true, false]]);
  assert.deepEqual(of('message').map((m) => m.id), ['3', '6']);
  assert.equal(socket.lastId, '6');
  assert.deepEqual(of('state').map((s) => s.state), ['connecting', 'live', 'reconnecting', 'reconnecting', 'live']);
  socket.stop();
});

test('a client that kept the room resumes from its own newest id on the first connect', () => {
  const { socket, of, last, live } = setup({ resumeFrom: '41' });
  socket.start();
  assert.equal(last().url, `ws://edge/v1/rooms/${ROOM}/ws?last_id=41`);
  assert.equal(of('state')[0]?.state, 'connecting');
  live(history([40, 41, 42]));
  assert.deepEqual(of('history').map((h) => [h.messages.map((m) => m.id), h.resumed]), [[['40', '41', '42'], true]]);
  assert.equal(socket.lastId, '42');
  socket.stop();
});

test('acks never move the resume point; only messages from the room do', async () => {
  const { socket, last, live } = setup();
  socket.start();
  live(history([10]));
  socket.send('hi');
  last().frame({ type: 'ack', client_msg_id: 'c0', id: '99' });
  last().drop(1006);
  await tick();
  assert.match(last().url, /last_id=10$/);
  socket.stop();
});

test('unacknowledged sends go out again after a reconnect with the same client_msg_id, in order', async () => {
  const { socket, of, last, live } = setup();
  socket.start();
  assert.equal(socket.send('before live'), 'c0');
  assert.deepEqual(last().sends(), [], 'nothing is sent before the history frame');
  live();
  socket.send('second');
  assert.deepEqual(last().sends().map((f) => f['client_msg_id']), ['c0', 'c1']);
  last().frame({ type: 'ack', client_msg_id: 'c0', id: '20' });
  last().drop(1012);
  assert.deepEqual(socket.pending.map((p) => [p.clientMsgId, p.state]), [['c1', 'queued']]);
  await tick();
  live();
  assert.deepEqual(last().sends(), [{ type: 'send', client_msg_id: 'c1', body: 'second', retry: true }], 'a resend says so');
  last().frame({ type: 'ack', client_msg_id: 'c1', id: '21' });
  last().frame({ type: 'ack', client_msg_id: 'c1', id: '21' });
  assert.deepEqual(of('ack'), [{ clientMsgId: 'c0', id: '20', body: 'before live' }, { clientMsgId: 'c1', id: '21', body: 'second' }]);
  assert.equal(socket.pending.length, 0);
  socket.stop();
});

test('its own message in the room settles a send whose ack was lost', async () => {
  const { socket, of, last, live } = setup();
  socket.start();
  live();
  socket.send('mine');
  last().drop(1006);
  await tick();
  live(history([30]));
  last().frame({ type: 'message', message: msg(31, { sender_id: SELF, client_msg_id: 'c0', body: 'mine' }) });
  assert.deepEqual(of('ack'), [{ clientMsgId: 'c0', id: '31', body: 'mine' }]);
  assert.deepEqual(last().sends().map((f) => f['client_msg_id']), ['c0'], 'sent once on reconnect, settled by the echo');
  socket.stop();
});

test('4401 stops for good and asks for a login; pending sends fail', async () => {
  const { socket, of, last, live } = setup();
  socket.start();
  live();
  socket.send('lost');
  last().drop(4401);
  await tick(20);
  assert.equal(FakeSocket.all.length, 1, 'no reconnect');
  assert.deepEqual(of('closed'), [{ advice: 'login', reason: 'session_ended', code: 4401 }]);
  assert.deepEqual(of('pending').at(-1), { clientMsgId: 'c0', body: 'lost', state: 'failed', reason: 'session_ended' });
  assert.equal(socket.state, 'closed');
  assert.throws(() => socket.send('more'), /closed/);
});

test('room_deleted then 4404 ends it; 4403 and 4400 end it too', async () => {
  for (const [code, reason] of [[4404, 'deleted'], [4403, 'removed'], [4400, 'protocol']] as const) {
    const { socket, of, last, live } = setup();
    socket.start();
    live();
    if (code === 4404) last().frame({ type: 'room_deleted', room_id: ROOM });
    last().drop(code);
    await tick();
    assert.equal(FakeSocket.all.length, 1);
    assert.deepEqual(of('closed'), [{ advice: 'stop', reason, code }]);
    if (code === 4404) assert.deepEqual(of('room_deleted'), [{ roomId: ROOM }]);
  }
});

test('4429 waits the rate pause before reconnecting', async () => {
  const { socket, of, last, live } = setup();
  socket.start();
  live();
  last().drop(4429);
  assert.equal(of('state').at(-1)?.inMs, 30);
  await tick(10);
  assert.equal(FakeSocket.all.length, 1);
  await tick(40);
  assert.equal(FakeSocket.all.length, 2);
  socket.stop();
});

test('a refused handshake is explained before retrying: lasting refusals end it, others retry', async () => {
  const room = { gone: false };
  const { socket, of, last } = setup({ explainRefusal: async () => (room.gone ? { advice: 'stop', reason: 'deleted' } : undefined) });
  socket.start();
  last().drop(1006);
  await tick(10);
  assert.equal(FakeSocket.all.length, 2, 'a passing refusal (429, 503) is retried');
  room.gone = true;
  last().drop(1006);
  await tick(10);
  assert.equal(FakeSocket.all.length, 2);
  assert.deepEqual(of('closed'), [{ advice: 'stop', reason: 'deleted', code: 1006 }]);
});

test('a resume that missed more than a page delivers the newest page whole, marked as a gap', async () => {
  const { socket, of, last, live } = setup();
  socket.start();
  live(history([1, 2, 3]));
  last().drop(1012);
  await tick();
  live(history([3, 50, 51], true));
  const h = of('history').at(-1)!;
  assert.deepEqual([h.messages.map((m) => m.id), h.gap, h.resumed], [['3', '50', '51'], true, true]);
  socket.stop();
});

test('a rate limit holds every send until retry_after_ms, then resends the same id', async () => {
  const { socket, of, last, live } = setup();
  socket.start();
  live();
  socket.send('a');
  socket.send('b');
  last().frame({ type: 'error', code: 'rate_limited', message: 'slow down', client_msg_id: 'c0', retry_after_ms: 20 });
  last().frame({ type: 'error', code: 'rate_limited', message: 'slow down', client_msg_id: 'c1', retry_after_ms: 20 });
  assert.equal(of('rate_limited').length, 1, 'one limit, one notice');
  assert.deepEqual(socket.pending.map((p) => p.state), ['retrying', 'retrying']);
  assert.equal(of('error')[0]?.code, 'rate_limited');
  await tick(40);
  assert.deepEqual(last().sends().map((f) => f['client_msg_id']), ['c0', 'c1', 'c0'], 'one at a time while limited');
  last().frame({ type: 'ack', client_msg_id: 'c0', id: '40' });
  assert.deepEqual(last().sends().map((f) => f['client_msg_id']), ['c0', 'c1', 'c0', 'c1']);
  socket.send('c');
  assert.equal(last().sends().length, 5, 'the limit ended with the first stored send');
  last().frame({ type: 'error', code: 'body_too_large', message: 'too big', client_msg_id: 'c1' });
  assert.deepEqual(socket.pending.map((p) => p.clientMsgId), ['c2']);
  assert.equal(of('pending').at(-1)?.state, 'failed');
  socket.stop();
});

test('frames that are not of the contracts shape are reported and skipped', () => {
  const { socket, of, last, live } = setup();
  socket.start();
  live();
  (last().onmessage as ((ev: { data: unknown }) => void) | null)?.({ data: 'not json' });
  last().frame({ type: 'message', message: { id: 'nope' } });
  last().frame({ type: 'surprise' });
  assert.deepEqual(of('invalid_frame').map((f) => f.problem.length > 0), [true, true, true]);
  assert.equal(of('message').length, 0);
  socket.stop();
});

test('a URL the platform refuses is reported and retried, not thrown from a timer', async () => {
  class Refusing {
    constructor(url: string) {
      throw new SyntaxError(`invalid URL ${url}`);
    }
  }
  const { socket, of } = setup({ url: 'not a url', WebSocket: Refusing as unknown as RoomSocketOptions['WebSocket'] });
  const errors: string[] = [];
  socket.on('connect_error', (e) => errors.push(e.problem));
  socket.start();
  await tick(20);
  assert.ok(errors.length >= 2, 'retried');
  assert.equal(of('state').at(-1)?.state, 'reconnecting');
  socket.stop();
});

test('bodies the edge would refuse are refused before the wire', () => {
  const { socket } = setup();
  assert.throws(() => socket.send(' \u200b '), { name: 'SendError', code: 'body_empty' });
  assert.throws(() => socket.send('é'.repeat(2049)), { name: 'SendError', code: 'body_too_large' });
});

test('a live socket that stays silent for two heartbeats is given up and resumed', async () => {
  const { socket, last, live } = setup({ heartbeatMs: 15 });
  socket.start();
  live(history([7]));
  await tick(25);
  assert.deepEqual(last().sent.filter((f) => f['type'] === 'ping').length >= 1, true);
  await tick(40);
  assert.ok(FakeSocket.all.length >= 2, 'reconnected');
  assert.equal(FakeSocket.all[0]!.closedByClient, 1000);
  assert.match(last().url, /last_id=7$/);
  socket.stop();
});

const commands = (s: FakeSocket) => s.sent.filter((f) => f['type'] !== 'ping');

test('edit, delete and react go out as their frames, each with its own client_msg_id, and resolve with the ack', async () => {
  const { socket, of, last, live } = setup();
  socket.start();
  live(history([10]));
  const replyId = socket.send('an answer', { replyTo: '10' });
  const edited = socket.edit('10', 'new words');
  const deleted = socket.delete('10');
  const reacted = socket.react('10', '👍', true);
  assert.deepEqual(commands(last()), [
    { type: 'send', client_msg_id: 'c0', body: 'an answer', reply_to: '10' },
    { type: 'edit', message_id: '10', body: 'new words', client_msg_id: 'c1' },
    { type: 'delete', message_id: '10', client_msg_id: 'c2' },
    { type: 'react', message_id: '10', emoji: '👍', on: true, client_msg_id: 'c3' },
  ]);
  assert.equal(replyId, 'c0');
  assert.deepEqual(of('pending').map((p) => [p.clientMsgId, p.replyTo]), [['c0', '10'], ['c0', '10']], 'only the send is a pending message');
  for (const [i, id] of ['20', '21', '22', '23'].entries()) last().frame({ type: 'ack', client_msg_id: `c${i}`, id });
  assert.deepEqual(await Promise.all([edited, deleted, reacted]), ['21', '22', '23']);
  assert.deepEqual(of('ack').map((a) => a.clientMsgId), ['c0'], 'ack events are for sends only (a page adds a message on them)');
  assert.equal(socket.unsettled, 0);
  socket.stop();
});

test('an unacknowledged edit goes out again after a reconnect with the same client_msg_id; a refusal rejects it', async () => {
  const { socket, last, live } = setup();
  socket.start();
  live(history([10]));
  const edited = socket.edit('10', 'v2');
  const reacted = socket.react('10', '🎉', false);
  last().drop(1012);
  await tick();
  live();
  assert.deepEqual(commands(last()).map((f) => [f['type'], f['client_msg_id']]), [['edit', 'c0'], ['react', 'c1']]);
  last().frame({ type: 'error', code: 'not_author', message: 'only the author can edit a message', client_msg_id: 'c0' });
  const err = (await edited.catch((e: unknown) => e)) as CommandError;
  assert.ok(err instanceof CommandError);
  assert.deepEqual([err.code, err.clientMsgId, err.message], ['not_author', 'c0', 'only the author can edit a message']);
  last().frame({ type: 'error', code: 'unavailable', message: 'store away', client_msg_id: 'c1' });
  assert.equal(socket.unsettled, 1, 'a retryable refusal keeps the command queued');
  socket.stop();
  assert.equal(((await reacted.catch((e: unknown) => e)) as CommandError).code, 'closed', 'a socket that ends rejects what still waits');
});

test('commands the edge would refuse are refused before the wire', async () => {
  const { socket, last, live } = setup();
  socket.start();
  live();
  const codes = await Promise.all([
    socket.edit('10', '   ').catch((e: SendError) => e.code),
    socket.edit('abc', 'x').catch((e: SendError) => e.code),
    socket.delete('0').catch((e: SendError) => e.code),
    socket.react('10', 'ok', true).catch((e: SendError) => e.code),
    socket.react('10', '👍👍', true).catch((e: SendError) => e.code),
  ]);
  assert.deepEqual(codes, ['body_empty', 'invalid_message_id', 'invalid_message_id', 'invalid_emoji', 'invalid_emoji']);
  assert.throws(() => socket.send('hi', { replyTo: '1e3' }), (e: SendError) => e.code === 'invalid_message_id');
  assert.deepEqual(commands(last()), []);
  socket.stop();
  assert.equal(await socket.delete('10').catch((e: SendError) => e.code), 'closed');
});

test('message_updated is delivered once per state; a resume\'s history brings changes made while away', async () => {
  const { socket, of, last, live } = setup();
  socket.start();
  live(history([10, 11]));
  const v2 = msg(10, { body: 'edited', version: 2, edited_at: 1_717_000_000_500, changed_at: 1_717_000_000_500 });
  last().frame({ type: 'message_updated', message: v2 });
  last().frame({ type: 'message_updated', message: v2 });
  last().frame({ type: 'message_updated', message: msg(10) });
  assert.deepEqual(of('message_updated').map((m) => m.body), ['edited'], 'a repeat and an older copy are dropped');
  last().frame({ type: 'message_updated', message: msg(3, { changed_at: 1_717_000_000_600, deleted_at: 1_717_000_000_600, body: '' }) });
  assert.equal(of('message_updated').at(-1)?.id, '3', 'a change to a message older than the history is passed on');
  last().drop(1012);
  await tick();
  const reacted = msg(11, { reactions: [{ emoji: '👍', count: 1, me: false }], changed_at: 1_717_000_000_700 });
  live({ type: 'history', room_id: ROOM, messages: [reacted, msg(12)], has_more: false });
  assert.deepEqual(of('history').at(-1)?.messages.map((m) => m.id), ['12'], 'only the new message is history');
  assert.deepEqual(of('message_updated').at(-1)?.reactions, [{ emoji: '👍', count: 1, me: false }], 'the overlap in a newer state is a change');
  last().frame({ type: 'message', message: msg(12) });
  assert.equal(of('message').length, 0, 'a repeat of a live message is still dropped');
  socket.stop();
});

const member = (n: number, since = n) => ({ user_id: `u-${n}`, name: `User ${n}`, since });

test('presence sets the online members, diffs move them, and a rejoin replaces them', async () => {
  const { socket, of, last, live } = setup();
  socket.start();
  live();
  last().frame({ type: 'presence', room_id: ROOM, online: [member(2), member(1)] });
  assert.deepEqual(socket.online.map((m) => m.user_id), ['u-1', 'u-2'], 'longest online first');
  last().frame({ type: 'presence_diff', joined: [member(3)], left: [member(1)] });
  assert.deepEqual(of('presence_diff').at(-1)?.online.map((m) => m.user_id), ['u-2', 'u-3']);
  assert.equal(socket.isOnline('u-1'), false);
  // A reload within one batch: left and joined again, still online.
  last().frame({ type: 'presence_diff', joined: [member(2, 9)], left: [member(2)] });
  assert.equal(socket.isOnline('u-2'), true);
  last().drop(1012);
  await tick();
  live();
  last().frame({ type: 'presence', room_id: ROOM, online: [member(4)] });
  assert.deepEqual(socket.online.map((m) => m.user_id), ['u-4'], 'the presence after a rejoin is the whole truth');
  assert.equal(of('presence').length, 2);
  socket.stop();
});

test('typing goes out once per throttle interval and only while live; own typing is not reported', async () => {
  const { socket, of, last, live } = setup({ typingThrottleMs: 40 });
  socket.start();
  assert.equal(socket.typing(), false, 'not live yet: nothing queued');
  live();
  assert.equal(socket.typing(), true);
  assert.equal(socket.typing(), false);
  await tick(50);
  assert.equal(socket.typing(), true);
  assert.equal(last().sent.filter((f) => f['type'] === 'typing').length, 2);
  last().frame({ type: 'typing', user_id: 'u-2', name: 'Bob' });
  last().frame({ type: 'typing', user_id: SELF, name: 'Me' });
  assert.deepEqual(of('typing'), [{ userId: 'u-2', name: 'Bob' }]);
  socket.stop();
});

test('markRead only moves forward, waits for a live socket and is written again on a new one', async () => {
  const { socket, of, last, live } = setup();
  socket.start();
  assert.equal(socket.markRead('20'), true);
  live();
  const reads = () => last().sent.filter((f) => f['type'] === 'read').map((f) => f['message_id']);
  assert.deepEqual(reads(), ['20'], 'written once live');
  assert.equal(socket.markRead('19'), false, 'an older mark is ignored');
  assert.equal(socket.markRead('20'), false);
  assert.equal(socket.markRead('100'), true, 'compared as numbers, not text');
  assert.deepEqual(reads(), ['20', '100']);
  assert.throws(() => socket.markRead('abc'), (e: unknown) => e instanceof SendError && e.code === 'invalid_message_id');
  last().frame({ type: 'unread', room_id: ROOM, messages: 0, mentions: 0 });
  last().frame({ type: 'receipts', items: [{ user_id: 'u-2', message_id: '100' }] });
  assert.deepEqual(of('unread'), [{ roomId: ROOM, messages: 0, mentions: 0 }]);
  assert.deepEqual(of('receipts')[0]?.items, [{ user_id: 'u-2', message_id: '100' }]);
  last().drop(1012);
  await tick();
  live();
  assert.deepEqual(reads(), ['100'], 'the mark again on the new socket');
  assert.equal(socket.readUpTo, '100');
  socket.stop();
  assert.throws(() => socket.markRead('200'), (e: unknown) => e instanceof SendError && e.code === 'closed');
});

test('a read refused because the store does not hold the message yet is written again', async () => {
  const { socket, of, last, live } = setup();
  socket.start();
  live();
  socket.markRead('30');
  const reads = () => last().sent.filter((f) => f['type'] === 'read').length;
  last().frame({ type: 'error', code: 'message_not_found', message: 'no such message in this room (yet)' });
  assert.equal(of('error').length, 1, 'still reported');
  await tick(600);
  assert.equal(reads(), 2, 'written again after 0.5 s');
  last().frame({ type: 'unread', room_id: ROOM, messages: 0, mentions: 0 });
  last().frame({ type: 'error', code: 'message_not_found', message: 'about something else' });
  await tick(600);
  assert.equal(reads(), 2, 'an answered mark is not written again');
  socket.stop();
});
