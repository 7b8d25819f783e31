import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Snowflake,
  newMessageEnvelope,
  encodeEnvelope,
  decodeEnvelope,
  EnvelopeError,
  envelopeRecord,
  deadLetterRecord,
  rejectionReason,
  type Envelope,
} from '../src/index.js';
import { ParleyError } from '@parley/errors';

const gen = new Snowflake({ instance: 7 });
const base = { room_id: 'room-1', sender_id: 'u1', sender_name: 'Ada Lovelace', body: 'héllo 👋', client_msg_id: 'c-1' };

function rejects(input: Uint8Array | string, reason: string, limits = {}) {
  assert.throws(
    () => decodeEnvelope(input, limits),
    (err: unknown) => err instanceof EnvelopeError && err.reason === reason && err.canRetry === false,
    `expected ${reason}`,
  );
}

function withField(patch: Record<string, unknown>): string {
  const env: Record<string, unknown> = { ...newMessageEnvelope(gen.next(), base), ...patch };
  for (const [k, v] of Object.entries(patch)) if (v === undefined) delete env[k];
  return JSON.stringify(env);
}

test('encode then decode is the identity, and encoding is canonical', () => {
  const env = newMessageEnvelope(gen.next(), base);
  const bytes = encodeEnvelope(env);
  const back = decodeEnvelope(bytes);
  assert.deepEqual(back, env);
  const shuffled = JSON.stringify(Object.fromEntries(Object.entries(env).reverse()));
  assert.deepEqual(encodeEnvelope(decodeEnvelope(shuffled)), bytes);
});

test('rejects what cannot be decoded, with a stable reason', () => {
  rejects('{"v":1,', 'bad_json');
  rejects(new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]), 'bad_encoding');
  rejects(withField({ v: 2 }), 'unsupported_version');
  rejects(withField({ body: undefined }), 'invalid_field');
  rejects(withField({ extra: 1 }), 'invalid_field');
  rejects(withField({ body: '   ' }), 'invalid_field');
  rejects(withField({ body: 'x\ud800y' }), 'invalid_field');
  rejects(withField({ id: 123 }), 'invalid_field');
  rejects(withField({ id: '-5' }), 'invalid_field');
  rejects(withField({ room_id: 'a.b' }), 'invalid_field');
  rejects(withField({ room_id: 'a*' }), 'invalid_field');
  // One spelling per room: a forged record under another one never reaches a store.
  rejects(withField({ room_id: '0B6F3C1E-7A2D-4C8E-9F10-2A3B4C5D6E7F' }), 'invalid_field');
  rejects(withField({ body: '\u0000\u0000' }), 'invalid_field');
  rejects(withField({ body: '\u200b\u200d\ufeff' }), 'invalid_field');
  rejects(withField({ body: 'a\u0000b' }), 'invalid_field');
  rejects(withField({ sender_name: '\u3164' }), 'invalid_field');
  rejects(withField({ kind: 'bogus' }), 'invalid_field');
  rejects(withField({ created_at: 5 }), 'invalid_field');
  rejects('[]', 'invalid_field');
  rejects('null', 'invalid_field');
});

test('body limit is counted in UTF-8 bytes and configurable', () => {
  const ok = withField({ body: 'é'.repeat(2048) });
  assert.doesNotThrow(() => decodeEnvelope(ok));
  rejects(withField({ body: 'é'.repeat(2049) }), 'body_too_large');
  rejects(withField({ body: 'x'.repeat(101) }), 'body_too_large', { maxBodyBytes: 100 });
  rejects('x'.repeat(1_000_000), 'too_large');
});

test('kafka record keys by room and carries the version header', () => {
  const env: Envelope = newMessageEnvelope(gen.next(), base);
  const r = envelopeRecord(env);
  assert.equal(r.key.toString(), 'room-1');
  assert.equal(r.headers['v'], '1');
  assert.deepEqual(decodeEnvelope(r.value), env);
});

test('dead letters keep the original bytes and say why', () => {
  const d = deadLetterRecord({ key: null, value: Buffer.from('nope'), reason: 'bad_json', message: 'x'.repeat(5000), source: 'nats:S:1', service: 'svc' }, 1);
  assert.equal(d.value?.toString(), 'nope');
  assert.equal(d.headers['dlq-reason'], 'bad_json');
  assert.equal(d.headers['dlq-message']?.length, 1024);
  assert.equal(rejectionReason(new EnvelopeError('body_too_large', 'big')), 'body_too_large');
  assert.equal(rejectionReason(new ParleyError('VALIDATION_FAILED', 'x')), 'validation_failed');
});
