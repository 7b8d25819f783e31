import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newEventEnvelope, Snowflake, type Envelope } from '@parley/envelope';
import { foldEvent, type MessageDocument } from '../src/elastic-message-sink.js';

const ids = new Snowflake({ instance: 5 });
const who = (sender: string, c: string) => ({ room_id: 'r', sender_id: sender, sender_name: sender, client_msg_id: c });
type Foldable = Parameters<typeof foldEvent>[1];

function foldAll(events: Envelope[]): MessageDocument | undefined {
  let doc: MessageDocument | undefined;
  for (const e of events) doc = foldEvent(doc, e as Foldable);
  return doc;
}

function permutations<T>(list: T[]): T[][] {
  if (list.length <= 1) return [list];
  return list.flatMap((x, i) => permutations([...list.slice(0, i), ...list.slice(i + 1)]).map((p) => [x, ...p]));
}

const m = newEventEnvelope(ids.next(), { ...who('ann', 'c1'), kind: 'message', body: 'original', mentions: ['u1'] });
const e1 = newEventEnvelope(ids.next(), { ...who('ann', 'c2'), kind: 'edit', target_id: m.id, body: 'first' });
const forged = newEventEnvelope(ids.next(), { ...who('eve', 'c3'), kind: 'edit', target_id: m.id, body: 'forged' });
const e2 = newEventEnvelope(ids.next(), { ...who('ann', 'c4'), kind: 'edit', target_id: m.id, body: 'second', mentions: ['u2'] });

test('any order of the same events folds into the same document; a replayed event changes nothing', () => {
  const expected = foldAll([m, e1, forged, e2])!;
  assert.equal(expected['body'], 'second');
  assert.equal(expected['version'], 3);
  assert.deepEqual(expected['mentions'], ['u2']);
  for (const order of permutations([m, e1, forged, e2])) assert.deepEqual(foldAll(order), expected, order.map((e) => e.kind).join(','));
  assert.deepEqual(foldAll([m, e1, forged, e2, e1, m, e2]), expected, 'replays');
});

test('a change before its message is a shell; the message fills it in', () => {
  const shell = foldAll([e2])!;
  assert.equal(shell['shell'], true);
  assert.equal(shell['sender_id'], undefined);
  const full = foldEvent(shell, m as Foldable);
  assert.equal(full['shell'], undefined);
  assert.equal(full['body'], 'second');
});

test('a delete by the author, or vouched for the owner, empties the text for good', () => {
  const notAllowed = newEventEnvelope(ids.next(), { ...who('bob', 'c5'), kind: 'delete', target_id: m.id });
  assert.equal(foldAll([m, notAllowed])!['deleted_at'], undefined);
  const byOwner = newEventEnvelope(ids.next(), { ...who('bob', 'c6'), kind: 'delete', target_id: m.id, by_owner: true });
  const gone = foldAll([m, e1, byOwner, e2])!;
  assert.equal(gone['deleted_at'], byOwner.created_at);
  assert.equal(gone['body'], '');
  assert.equal(gone['mentions'], undefined);
  assert.ok(((gone['edits'] as Array<{ body: string }>) ?? []).every((x) => x.body === ''), 'no edit keeps its text');
});
