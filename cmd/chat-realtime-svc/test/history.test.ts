import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BinaryWriter } from '@bufbuild/protobuf/wire';
import { messageSchema } from '@parley/contracts';
import { chatV1, messageFromProto, messageToProto } from '@parley/proto';
import { newMessageEnvelope, Snowflake } from '@parley/envelope';
import { ByteMemo, decodeListResponse, messageBacklogged, type Backlogged, type HistoryPage } from '../src/history.js';

const ids = new Snowflake({ instance: 1 });
const ROOM = '0b6c3f5e-8d1a-4c2b-9e7f-123456789abc';

function row(body: string, over: Partial<chatV1.ChatMessage> = {}): chatV1.ChatMessage {
  const env = newMessageEnvelope(ids.next(), { room_id: ROOM, sender_id: 'u1', sender_name: 'Ada', body, client_msg_id: `c-${body}` });
  return { ...messageToProto(env), ...over };
}

/** What the generated decoder and the conversion without a memo give. */
function plain(bytes: Uint8Array): HistoryPage {
  const res = chatV1.ListMessagesResponse.decode(bytes);
  const convert = (list: chatV1.ChatMessage[]) =>
    list.flatMap((m) => {
      const parsed = messageSchema.safeParse(messageFromProto(m));
      // left out when invalid, as GrpcHistorySource does
      return parsed.success ? [messageBacklogged(parsed.data)] : [];
    });
  return { messages: convert(res.messages), hasMore: res.hasMore, changed: convert(res.changed), changesTruncated: res.changesTruncated };
}

test('a ListMessages page decodes to what the generated decoder and a fresh conversion give, and repeats come from the memo', () => {
  const rows = [row('one'), row('bad', { kind: 'edit' }), row('two'), row('three')];
  const bytes = chatV1.ListMessagesResponse.encode({ messages: rows, hasMore: true, changed: [rows[2]!], changesTruncated: true }).finish();
  const memo = new ByteMemo(100);
  const first = decodeListResponse(bytes, memo, 4096);
  assert.deepEqual(first, plain(bytes));
  assert.deepEqual(first.messages.map((m) => JSON.parse(m.json).body), ['one', 'two', 'three'], 'the row that is not a message is left out');
  assert.equal(memo.size, 4, 'the invalid row is remembered as invalid too');

  const again = decodeListResponse(bytes, memo, 4096);
  assert.deepEqual(again, first);
  assert.equal(again.messages[0], first.messages[0], 'the same object: not converted again');

  // The same id with other contents (say a row the store rewrote) is converted again.
  const changed = chatV1.ListMessagesResponse.encode({ messages: [{ ...rows[0]!, body: 'one, edited' }], hasMore: false, changed: [], changesTruncated: false }).finish();
  const third = decodeListResponse(changed, memo, 4096);
  assert.deepEqual(third, plain(changed));
  assert.equal(JSON.parse(third.messages[0]!.json).body, 'one, edited');
});

test('unknown fields are skipped and malformed pages throw, as with the generated decoder', () => {
  const w = new BinaryWriter();
  chatV1.ChatMessage.encode(row('kept'), w.uint32(10).fork()).join();
  w.uint32((9 << 3) | 2).string('a field from a newer server');
  w.uint32(16).bool(true);
  const bytes = w.finish();
  assert.deepEqual(decodeListResponse(bytes, new ByteMemo(10), 4096), plain(bytes));

  const cut = bytes.subarray(0, 20);
  assert.throws(() => chatV1.ListMessagesResponse.decode(cut));
  assert.throws(() => decodeListResponse(cut, new ByteMemo(10), 4096));
});

test('the memo is bounded: the least recently used entry goes first', () => {
  const memo = new ByteMemo(2);
  const b = (s: string) => new TextEncoder().encode(s);
  const item = (n: number): Backlogged => ({ id: BigInt(n), json: String(n), changedAt: n });
  memo.remember(1, b('a'), 0, 1, item(1));
  memo.remember(2, b('b'), 0, 1, item(2));
  assert.equal(memo.lookup(1, b('a'), 0, 1), memo.lookup(1, b('xa'), 1, 2), 'a range of a larger buffer matches');
  memo.remember(3, b('c'), 0, 1, item(3));
  assert.equal(memo.size, 2);
  assert.equal(typeof memo.lookup(2, b('b'), 0, 1), 'symbol', 'the one not used since it was stored was evicted');
  assert.deepEqual(memo.lookup(1, b('a'), 0, 1), item(1), 'the one just read stays');
  assert.deepEqual(memo.lookup(3, b('c'), 0, 1), item(3));
  assert.equal(typeof memo.lookup(3, b('C'), 0, 1), 'symbol', 'same key, other bytes: a miss');
});

