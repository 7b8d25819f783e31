import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CloseCodes } from '@parley/contracts';
import { decideAfterClose } from '../src/internal.js';

const opts = { backoff: { initialMs: 100, maxMs: 1000, jitter: 0 }, ratePauseMs: 15_000 };

test('restart, slow consumer, a dropped connection and unknown codes resume on the backoff', () => {
  for (const code of [CloseCodes.SERVICE_RESTART, CloseCodes.SLOW_CONSUMER, 1006, 1001, 1011, 4999]) {
    assert.deepEqual(decideAfterClose(code, 2, opts), { action: 'reconnect', delayMs: 400 }, String(code));
  }
});

test('4429 pauses first, never shorter than the backoff', () => {
  assert.deepEqual(decideAfterClose(CloseCodes.RATE_ABUSE, 0, opts), { action: 'reconnect', delayMs: 15_000 });
  assert.deepEqual(decideAfterClose(CloseCodes.RATE_ABUSE, 9, { ...opts, ratePauseMs: 10 }), { action: 'reconnect', delayMs: 1000 });
});

test('4401 ends the room and asks for a login', () => {
  assert.deepEqual(decideAfterClose(CloseCodes.SESSION_ENDED, 0, opts), { action: 'end', advice: 'login', reason: 'session_ended' });
});

test('4403, 4404, 4400 and a normal close end it for good', () => {
  assert.deepEqual(decideAfterClose(CloseCodes.MEMBERSHIP_REVOKED, 0, opts), { action: 'end', advice: 'stop', reason: 'removed' });
  assert.deepEqual(decideAfterClose(CloseCodes.ROOM_DELETED, 0, opts), { action: 'end', advice: 'stop', reason: 'deleted' });
  assert.deepEqual(decideAfterClose(CloseCodes.PROTOCOL_ABUSE, 0, opts), { action: 'end', advice: 'stop', reason: 'protocol' });
  assert.deepEqual(decideAfterClose(CloseCodes.NORMAL, 0, opts), { action: 'end', advice: 'stop', reason: 'closed' });
});
