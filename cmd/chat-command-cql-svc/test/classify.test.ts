import { test } from 'node:test';
import assert from 'node:assert/strict';
import cassandra from 'cassandra-driver';
import { classify } from '../src/cassandra-message-sink.js';

test('only an explicit rejection of the statement is final; the store being away is retried', () => {
  const codes = cassandra.types.responseErrorCodes;
  assert.equal(classify(new cassandra.errors.NoHostAvailableError({})).canRetry, true);
  assert.equal(classify(new cassandra.errors.OperationTimedOutError('timeout')).canRetry, true);
  assert.equal(classify(new cassandra.errors.ResponseError(codes.writeTimeout, 'write timeout')).canRetry, true);
  assert.equal(classify(new cassandra.errors.ResponseError(codes.overloaded, 'overloaded')).canRetry, true);
  assert.equal(classify(new Error('socket hang up')).canRetry, true);
  const invalid = classify(new cassandra.errors.ResponseError(codes.invalid, 'bad value'));
  assert.equal(invalid.canRetry, false);
  assert.equal(invalid.details?.['reason'], 'store_rejected');
});
