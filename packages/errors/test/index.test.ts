import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ParleyError, toParleyError, isParleyError, ErrorCodes } from '../src/index.js';

test('ParleyError carries code, status and retry hint from the registry', () => {
  const err = new ParleyError('RATE_LIMITED', 'slow down');
  assert.equal(err.code, 'RATE_LIMITED');
  assert.equal(err.httpStatus, 429);
  assert.equal(err.canRetry, true);
  assert.deepEqual(err.toJSON(), { error: { code: 'RATE_LIMITED', message: 'slow down' } });
});

test('canRetry can be overridden and cause is kept', () => {
  const cause = new Error('boom');
  const err = new ParleyError('DEPENDENCY_UNAVAILABLE', 'es down', { canRetry: false, cause });
  assert.equal(err.canRetry, false);
  assert.equal(err.cause, cause);
});

test('toParleyError wraps unknown errors as non-retryable INTERNAL', () => {
  const wrapped = toParleyError(new TypeError('x is undefined'));
  assert.ok(isParleyError(wrapped));
  assert.equal(wrapped.code, 'INTERNAL');
  assert.equal(wrapped.canRetry, false);
  const same = new ParleyError('NOT_FOUND', 'nope');
  assert.equal(toParleyError(same), same);
  assert.equal(toParleyError('plain string').message, 'plain string');
});

test('every code has an HTTP status in the 4xx/5xx range', () => {
  for (const [code, meta] of Object.entries(ErrorCodes)) {
    assert.ok(meta.httpStatus >= 400 && meta.httpStatus < 600, code);
  }
});
