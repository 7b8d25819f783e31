import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ackFrame,
  errorFrame,
  historyFrame,
  historyUnavailableFrame,
  memberTypingFrame,
  messageFrame,
  messageUpdatedFrame,
  parseClientFrame,
  PONG_FRAME,
  receiptsFrame,
  roomDeletedFrame,
  unreadFrame,
} from '../src/protocol.js';
import { clientFrameSchema, ERROR_FRAME_CODES, serverFrameSchema } from '@parley/contracts';
import { encodeEnvelope, newMessageEnvelope, Snowflake } from '@parley/envelope';
import { loadBacklog, mergeById, resumeFloor } from '../src/join.js';

const enc = (s: string) => new TextEncoder().encode(s).buffer as ArrayBuffer;
const code = (data: ArrayBuffer, binary = false) => {
  const r = parseClientFrame(data, binary, 10);
  return r.ok ? r.frame.type : r.code;
};

test('parseClientFrame answers every bad frame with its stable code', () => {
  assert.equal(code(enc('{}'), true), 'binary_not_supported');
  assert.equal(code(new Uint8Array([0xc3, 0x28]).buffer as ArrayBuffer), 'invalid_json');
  assert.equal(code(enc('{nope')), 'invalid_json');
  assert.equal(code(enc('"str"')), 'invalid_frame');
  assert.equal(code(enc('null')), 'invalid_frame');
  assert.equal(code(enc('{"type":"x"}')), 'unknown_type');
  assert.equal(code(enc('{"type":"send","body":"a"}')), 'invalid_client_msg_id');
  assert.equal(code(enc('{"type":"send","client_msg_id":"a b","body":"a"}')), 'invalid_client_msg_id');
  assert.equal(code(enc('{"type":"send","client_msg_id":"a","body":5}')), 'invalid_frame');
  assert.equal(code(enc('{"type":"send","client_msg_id":"a","body":"a","x":1}')), 'invalid_frame');
  assert.equal(code(enc('{"type":"send","client_msg_id":"a","body":" \\n "}')), 'body_empty');
  assert.equal(code(enc('{"type":"send","client_msg_id":"a","body":"\\ud800"}')), 'invalid_frame');
  assert.equal(code(enc('{"type":"send","client_msg_id":"a","body":"ééééééé"}')), 'body_too_large', 'size is UTF-8 bytes');
  assert.equal(code(enc('{"type":"send","client_msg_id":"a","body":"hello"}')), 'send');
  assert.equal(code(enc('{"type":"ping"}')), 'ping');
});

test('frames wrap stored envelope bytes without re-serializing them', () => {
  const env = '{"v":1,"id":"5"}';
  assert.deepEqual(JSON.parse(messageFrame(env)), { type: 'message', message: { v: 1, id: '5' } });
  assert.deepEqual(JSON.parse(historyFrame('r', [env, env], true)), { type: 'history', room_id: 'r', messages: [{ v: 1, id: '5' }, { v: 1, id: '5' }], has_more: true });
});

test('every frame the edge writes is a ServerFrame of the contract', () => {
  const env = new TextDecoder().decode(encodeEnvelope(newMessageEnvelope(new Snowflake({ instance: 3 }).next(), { room_id: 'r-1', sender_id: 'u-1', sender_name: 'Ada', body: 'hi', client_msg_id: 'c-1' })));
  const written = [
    messageFrame(env),
    historyFrame('r-1', [env, env], false),
    historyFrame('r-1', [], true),
    historyUnavailableFrame('r-1', 'DEPENDENCY_UNAVAILABLE'),
    ackFrame('c-1', '12345'),
    roomDeletedFrame('r-1'),
    PONG_FRAME,
    messageUpdatedFrame(env),
    memberTypingFrame('u-1', 'Ada'),
    receiptsFrame([{ user_id: 'u-1', message_id: '12345' }]),
    unreadFrame('r-1', 3, 1),
    ...ERROR_FRAME_CODES.map((c) => errorFrame(c, 'why', 'c-1', c === 'rate_limited' ? 1500 : undefined)),
    errorFrame('invalid_json', 'no client id'),
  ];
  for (const f of written) {
    const parsed = serverFrameSchema.safeParse(JSON.parse(f));
    assert.ok(parsed.success, `${f}: ${parsed.success ? '' : parsed.error.message}`);
  }
});

test('the hand-written frame parser and the contract schema agree on what is a valid client frame', () => {
  const frames = [
    '{"type":"send","client_msg_id":"a","body":"hello"}',
    '{"type":"ping"}',
    '{"type":"ping","x":1}',
    '{"type":"send","client_msg_id":"a b","body":"a"}',
    '{"type":"send","client_msg_id":"a","body":5}',
    '{"type":"send","client_msg_id":"a","body":"a","x":1}',
    '{"type":"send","body":"a"}',
    '{"type":"x"}',
    '{"client_msg_id":"a","body":"a"}',
    '[]',
    '{"type":"typing"}',
    '{"type":"typing","x":1}',
    '{"type":"read","message_id":"12345"}',
    '{"type":"read","message_id":"0"}',
    '{"type":"read"}',
    '{"type":"read","message_id":"1","x":1}',
    '{"type":"edit","message_id":"1","body":"b","client_msg_id":"c"}',
    '{"type":"react","message_id":"1","emoji":"👍","on":true,"client_msg_id":"c"}',
    '{"type":"react","message_id":"1","emoji":"x","on":true,"client_msg_id":"c"}',
    '{"type":"delete","message_id":"1","client_msg_id":"c"}',
  ];
  for (const f of frames) {
    assert.equal(parseClientFrame(enc(f), false, 4096).ok, clientFrameSchema.safeParse(JSON.parse(f)).success, f);
  }
});

test('mergeById dedupes, sorts ascending and drops ids at or before the resume point', () => {
  const m = (id: bigint, changedAt = 0) => ({ id, json: String(id), changedAt });
  assert.deepEqual(mergeById([m(3n), m(1n)], [m(2n), m(3n), m(5n)]).map((x) => x.id), [1n, 2n, 3n, 5n]);
  assert.deepEqual(mergeById([m(3n), m(1n)], [m(2n), m(5n)], 2n).map((x) => x.id), [3n, 5n]);
});

test('a resume also returns a message stored after last_id with a slightly smaller id (clock skew between edges)', async () => {
  const gen = (instance: number, ms: number) => new Snowflake({ instance, now: () => ms }).next();
  const t0 = Date.parse('2026-11-22T10:00:00Z');
  const seen = gen(1, t0 + 1000); // what the client saw last, from edge 1
  const late = gen(2, t0 + 400); // taken earlier by edge 2 (clock behind), stored after `seen`
  const old = gen(2, t0 - 5000); // long before: not repeated
  const stored = [old, late, seen].map((id) => ({ id, json: `{"id":"${id}"}`, changedAt: 0 }));
  const asked: Array<bigint | undefined> = [];
  const backlog = await loadBacklog(
    {
      history: {
        list: async (_room, _token, opts) => {
          asked.push(opts.afterId);
          return { messages: stored.filter((m) => opts.afterId === undefined || m.id > opts.afterId), hasMore: false, changed: [], changesTruncated: false };
        },
        close: () => undefined,
      },
      recent: undefined,
      lookbackMs: 60_000,
      maxRecent: 100,
    },
    { roomId: 'r', token: 't', limit: 50, lastId: seen, isBuffered: () => false },
  );
  assert.equal(backlog.kind, 'history');
  const ids = backlog.kind === 'history' ? backlog.messages.map((m) => m.id) : [];
  assert.ok(ids.includes(late), 'the late, smaller id is not lost');
  assert.ok(!ids.includes(old), 'nothing outside the overlap window is repeated');
  assert.ok(asked[0]! < late && asked[0] === resumeFloor(seen));
});
