import { test } from 'node:test';
import assert from 'node:assert/strict';
import cassandra from 'cassandra-driver';
import { messageOfRow, versionsOfRow } from '../src/state.js';
import { reactionKey } from '../src/tables.js';

const L = (n: bigint | number) => cassandra.types.Long.fromString(String(n));
const T0 = Date.UTC(2026, 0, 1);
/** Snowflake-like ids whose time is T0 + ms (the layout of @parley/envelope: ms since 2024 << 22). */
const idAt = (ms: number) => (BigInt(T0 + ms - 1_704_067_200_000) << 22n).toString();

/** A row as the driver returns it: maps as objects keyed by the decimal id. */
function row(cols: Record<string, unknown>): cassandra.types.Row {
  const base = { room_id: 'r', id: L(BigInt(idAt(0))), sender_id: 'ann', sender_name: 'Ann', body: 'hello', client_msg_id: 'c1', kind: 'message', created_at: new Date(T0), changed_at: null };
  const all = { ...base, ...cols };
  return { get: (c: string) => (all as Record<string, unknown>)[c] ?? null } as unknown as cassandra.types.Row;
}

test('a row of only changes (its message not stored yet) is not a message', () => {
  assert.equal(messageOfRow(row({ sender_id: null, reactions: { [reactionKey('👍', 'bob')]: true } })), undefined);
});

test("only the author's edits count; the newest by id is the body; version = 1 + their number", () => {
  const [e1, e2, e3] = [idAt(10), idAt(20), idAt(30)];
  const r = row({ edits: { [e1]: 'one', [e3]: 'forged', [e2]: 'two' }, edit_authors: { [e1]: 'ann', [e2]: 'ann', [e3]: 'mallory' }, edit_mentions: { [e2]: ['u9'] } });
  const m = messageOfRow(r)!;
  assert.equal(m.body, 'two');
  assert.equal(m.version, 3);
  assert.equal(m.edited_at, T0 + 20);
  assert.deepEqual(m.mentions, ['u9'], 'the mentions of the body shown');
  assert.deepEqual(versionsOfRow(r).map((v) => [v.version, v.body]), [[1, 'hello'], [2, 'one'], [3, 'two']]);
});

test("a delete counts for the author or with the owner flag; then no text, no reactions, no versions", () => {
  const d = idAt(40);
  assert.equal(messageOfRow(row({ deletes: { [d]: 'bob' } }))!.deleted_at, undefined, 'not the author, no owner flag');
  for (const who of ['ann', 'owner:bob']) {
    const r = row({ deletes: { [d]: who }, reactions: { [reactionKey('👍', 'bob')]: true }, mentions: ['u1'] });
    const m = messageOfRow(r)!;
    assert.equal(m.deleted_at, T0 + 40);
    assert.equal(m.body, '');
    assert.equal(m.reactions, undefined);
    assert.equal(m.mentions, undefined);
    assert.deepEqual(versionsOfRow(r), []);
  }
});

test('reactions: one per member and emoji, counts most used first, `me` for the reader, a bounded number of emoji', () => {
  const reactions: Record<string, boolean> = {
    [reactionKey('👍', 'bob')]: true,
    [reactionKey('👍', 'cy')]: true,
    [reactionKey('🎉', 'bob')]: false,
    [reactionKey('❤️', 'cy')]: true,
  };
  for (let i = 0; i < 30; i++) reactions[reactionKey(String.fromCodePoint(0x1f600 + i), 'dan')] = true;
  const m = messageOfRow(row({ reactions }), 'bob')!;
  assert.deepEqual(m.reactions![0], { emoji: '👍', count: 2, me: true });
  assert.ok(!m.reactions!.some((x) => x.emoji === '🎉'), 'toggled off');
  assert.equal(m.reactions!.length, 20, 'MAX_DISTINCT_REACTIONS');
});

test('replies and the change time', () => {
  const m = messageOfRow(row({ replies: [L(BigInt(idAt(5))), L(BigInt(idAt(9)))], changed_at: new Date(T0 + 9) }))!;
  assert.equal(m.reply_count, 2);
  assert.equal(m.last_reply_id, idAt(9));
  assert.equal(m.changed_at, T0 + 9);
});
