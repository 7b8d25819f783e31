import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ParleyError, toParleyError, isParleyError, isUnreachable, ErrorCodes } from '../src/index.js';

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

test('unreachable stores become retryable DEPENDENCY_UNAVAILABLE, refusals do not', () => {
  const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
  const pgShutdown = Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' });
  const pgDropped = new Error('Connection terminated unexpectedly');
  const both = new AggregateError([refused], 'all attempts failed');
  for (const err of [refused, pgShutdown, pgDropped, both]) {
    assert.ok(isUnreachable(err), err.message);
    const pe = toParleyError(err);
    assert.equal(pe.code, 'DEPENDENCY_UNAVAILABLE');
    assert.equal(pe.httpStatus, 503);
    assert.equal(pe.canRetry, true);
  }
  const uniqueViolation = Object.assign(new Error('duplicate key value'), { code: '23505' });
  assert.equal(isUnreachable(uniqueViolation), false);
  assert.equal(toParleyError(uniqueViolation).code, 'INTERNAL');
  assert.equal(isUnreachable('ECONNREFUSED'), false);
});
