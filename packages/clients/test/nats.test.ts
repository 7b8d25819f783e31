import { test } from 'node:test';
import assert from 'node:assert/strict';
import { natsUrlOptions } from '../src/nats.js';

test('credentials leave the URL for the connection options, and the user gets inboxes of its own', () => {
  assert.deepEqual(natsUrlOptions('nats://room-svc:s3cret@127.0.0.1:4322'), {
    servers: 'nats://127.0.0.1:4322',
    user: 'room-svc',
    pass: 's3cret',
    inboxPrefix: '_INBOX.room-svc',
  });
  // Percent-encoded characters come back as typed.
  assert.deepEqual(natsUrlOptions('nats://app:p%40ss%3Aw%2Frd@nats.internal:4222'), {
    servers: 'nats://nats.internal:4222',
    user: 'app',
    pass: 'p@ss:w/rd',
    inboxPrefix: '_INBOX.app',
  });
  // A user that cannot be one subject token keeps the default inbox.
  assert.equal(natsUrlOptions('nats://a.b:pw@127.0.0.1:4322').inboxPrefix, undefined);
  assert.equal(natsUrlOptions('nats://a%20b:pw@127.0.0.1:4322').inboxPrefix, undefined);
});

test('a user without a password is a token; no credentials is anonymous', () => {
  assert.deepEqual(natsUrlOptions('nats://t0ken@127.0.0.1:4322'), { servers: 'nats://127.0.0.1:4322', token: 't0ken' });
  assert.deepEqual(natsUrlOptions('nats://127.0.0.1:4222'), { servers: 'nats://127.0.0.1:4222' });
  assert.deepEqual(natsUrlOptions('tls://u:p@nats.example:4222').servers, 'tls://nats.example:4222');
});

test('the password is never in the servers nats.js reports, nor in a refusal', () => {
  const o = natsUrlOptions('nats://u:topsecret@127.0.0.1:4322');
  assert.equal(String(o.servers).includes('topsecret'), false);
  assert.throws(() => natsUrlOptions('http://u:topsecret@127.0.0.1:4322'), (err: Error) => /nats:\/\/ or tls:\/\//.test(err.message) && !err.message.includes('topsecret'));
  assert.throws(() => natsUrlOptions('u:topsecret@@'), (err: Error) => !err.message.includes('topsecret'));
});
