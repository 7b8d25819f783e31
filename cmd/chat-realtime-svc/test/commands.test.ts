import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_DISTINCT_REACTIONS, type CommandFrame, type Message } from '@parley/contracts';
import { newMessageEnvelope, Snowflake, type NewEvent } from '@parley/envelope';
import { silentLogger } from '@parley/log';
import { CommandHandler, type Prepared } from '../src/commands.js';
import { parseClientFrame } from '../src/protocol.js';

const ids = new Snowflake({ instance: 8 });
const ROOM = 'room-1';
const ann = { id: 'ann', displayName: 'Ann' };
const bob = { id: 'bob', displayName: 'Bob' };
const stored = (sender = 'ann', extra: Partial<Message> = {}): Message => ({
  ...newMessageEnvelope(ids.next(), { room_id: ROOM, sender_id: sender, sender_name: sender, body: 'hi', client_msg_id: `c${Math.random().toString(36).slice(2)}` }),
  ...extra,
});

/** A handler over stand-ins: what the store answers, what the stream holds, what gets logged. */
function handler(store: Partial<Prepared> = {}, inStream?: Message) {
  const logged: NewEvent[] = [];
  const h = new CommandHandler({
    oracle: { prepare: async () => ({ callerIsOwner: false, ...store }) },
    logged: { find: async () => (inStream ? { ...inStream, kind: 'message' as const, body: inStream.body } : undefined) },
    users: { idsOf: async (names) => names.filter((n) => n === 'cyd').map(() => 'user-cyd') },
    publisher: () => ({
      publish: async () => 'x',
      publishEvent: async (e) => {
        logged.push(e);
        return { id: ids.next().toString(), kind: e.kind };
      },
    }),
    changeGraceMs: 600_000,
    log: silentLogger(),
  });
  const run = async (caller: typeof ann, frame: CommandFrame) => {
    const prepared = await h.prepare(ROOM, 'token', frame);
    assert.notEqual(prepared, 'unavailable');
    return h.commit(ROOM, caller, frame, prepared as Prepared);
  };
  return { run, logged };
}

test('an edit is the author\'s alone; a delete the author\'s or, flagged, the owner\'s', async () => {
  const m = stored('ann');
  const { run, logged } = handler({ message: m });
  assert.deepEqual(await run(bob, { type: 'edit', message_id: m.id, body: 'mine now', client_msg_id: 'e1' }), { ok: false, code: 'not_author', message: 'only the author can edit a message' });
  assert.equal((await run(bob, { type: 'delete', message_id: m.id, client_msg_id: 'd1' })).ok, false);
  assert.equal(logged.length, 0, 'nothing refused is logged');
  const owner = handler({ message: m, callerIsOwner: true });
  assert.equal((await owner.run(bob, { type: 'delete', message_id: m.id, client_msg_id: 'd2' })).ok, true);
  assert.equal((owner.logged[0] as { by_owner?: true }).by_owner, true);
});

test('a message only the stream holds yet is checked as sent; an old unknown id or another room\'s is not found', async () => {
  const fresh = stored('ann');
  const inFlight = handler({}, fresh);
  assert.equal((await inFlight.run(bob, { type: 'edit', message_id: fresh.id, body: 'x', client_msg_id: 'e2' })).ok, false, 'the author is known from the stream');
  assert.equal((await inFlight.run(ann, { type: 'edit', message_id: fresh.id, body: 'x', client_msg_id: 'e3' })).ok, true);
  const nowhere = handler({});
  const r = await nowhere.run(ann, { type: 'react', message_id: fresh.id, emoji: '👍', on: true, client_msg_id: 'r1' });
  assert.deepEqual(r, { ok: false, code: 'message_not_found', message: 'no such message in this room' });
  assert.deepEqual(await nowhere.run(ann, { type: 'send', body: 'x', reply_to: '1', client_msg_id: 's1' }), { ok: false, code: 'reply_not_found', message: 'no such message in this room' });
});

test('deleted messages take no change; a new emoji beyond the bound is refused, a known one is not', async () => {
  const gone = stored('ann', { deleted_at: 5, body: '' });
  assert.equal(((await handler({ message: gone }).run(ann, { type: 'react', message_id: gone.id, emoji: '👍', on: true, client_msg_id: 'r2' })) as { code: string }).code, 'message_deleted');
  const reactions = Array.from({ length: MAX_DISTINCT_REACTIONS }, (_, i) => ({ emoji: String.fromCodePoint(0x1f600 + i), count: 1, me: false }));
  const full = stored('ann', { reactions });
  const h = handler({ message: full });
  assert.equal(((await h.run(bob, { type: 'react', message_id: full.id, emoji: '🎉', on: true, client_msg_id: 'r3' })) as { code: string }).code, 'too_many_reactions');
  assert.equal((await h.run(bob, { type: 'react', message_id: full.id, emoji: reactions[0]!.emoji, on: true, client_msg_id: 'r4' })).ok, true);
  assert.equal((await h.run(bob, { type: 'react', message_id: full.id, emoji: '🎉', on: false, client_msg_id: 'r5' })).ok, true, 'taking one off is always fine');
});

test('a client_msg_id the store logged answers the retry; used for another kind it is refused', async () => {
  const m = stored('ann');
  const { run, logged } = handler({ message: m, logged: { eventId: '77', kind: 'reaction' } });
  assert.deepEqual(await run(ann, { type: 'react', message_id: m.id, emoji: '👍', on: true, client_msg_id: 'k' }), { ok: true, id: '77' });
  assert.equal(((await run(ann, { type: 'edit', message_id: m.id, body: 'x', client_msg_id: 'k' })) as { code: string }).code, 'invalid_client_msg_id');
  assert.equal(logged.length, 0);
});

test('@usernames become the ids of the users that exist', async () => {
  const { run, logged } = handler({});
  assert.equal((await run(ann, { type: 'send', body: 'hi @cyd and @nobody', client_msg_id: 's2' })).ok, true);
  assert.deepEqual((logged[0] as { mentions?: string[] }).mentions, ['user-cyd']);
});

test('frames: each command checks its own fields, in a fixed order', () => {
  const enc = (v: unknown) => new TextEncoder().encode(JSON.stringify(v)).buffer as ArrayBuffer;
  const code = (v: unknown) => {
    const r = parseClientFrame(enc(v), false, 100);
    return r.ok ? 'ok' : r.code;
  };
  assert.equal(code({ type: 'edit', message_id: '5', body: 'x', client_msg_id: 'c' }), 'ok');
  assert.equal(code({ type: 'edit', message_id: '05', body: 'x', client_msg_id: 'c' }), 'invalid_message_id');
  assert.equal(code({ type: 'edit', message_id: '5', body: 'x' }), 'invalid_client_msg_id');
  assert.equal(code({ type: 'edit', message_id: '5', body: 'x'.repeat(101), client_msg_id: 'c' }), 'body_too_large');
  assert.equal(code({ type: 'delete', message_id: '5', body: 'x', client_msg_id: 'c' }), 'invalid_frame');
  assert.equal(code({ type: 'react', message_id: '5', emoji: 'x', on: true, client_msg_id: 'c' }), 'invalid_emoji');
  assert.equal(code({ type: 'react', message_id: '5', emoji: '👍', client_msg_id: 'c' }), 'invalid_frame');
  assert.equal(code({ type: 'send', body: 'x', reply_to: 'abc', client_msg_id: 'c' }), 'invalid_message_id');
});
