import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connectNats } from '@parley/clients';
import { deferrer, eventually, freePort, infra } from '@parley/test-support';
import { call, newUser, startUserSvc } from '@parley/test-support/user-svc';
import type { SessionRevokedEvent } from '../src/session-events.js';

test('session.revoked reaches JetStream exactly once per event id although NATS was down at logout and the relay restarted', async (t) => {
  const defer = deferrer(t);
  // 1. NATS unreachable: the logout commits, its event waits in the outbox.
  const deadNats = `nats://127.0.0.1:${await freePort()}`;
  const first = await startUserSvc(defer, { NATS_URL: deadNats, USER_OUTBOX_MAX_BACKOFF_MS: '200' });
  const pending = async () => (await first.pg.client.query('SELECT id FROM session_outbox WHERE published_at IS NULL')).rowCount;
  const me = await newUser(first.http);
  assert.equal((await call(first.http, 'DELETE', '/v1/sessions/current', { token: me.token })).status, 204);
  const ready = await call(first.http, 'GET', '/readyz');
  assert.equal(ready.status, 200);
  assert.match(ready.body.checks.nats, /^failing/);
  await new Promise((r) => setTimeout(r, 500)); // a few relay attempts against the dead port
  assert.equal(await pending(), 1);
  first.svc.shutdown('test');
  assert.equal(await first.svc.done, 0, 'shutdown with NATS down still ends cleanly');

  // 2. Restarted on the same schema with NATS reachable: the event goes out and is marked.
  const env = { USER_DB_SCHEMA: first.schema, USER_REDIS_PREFIX: first.redisPrefix, SESSION_EVENTS_PREFIX: first.sessionEvents.prefix, SESSION_EVENTS_STREAM: first.sessionEvents.stream };
  const second = await startUserSvc(defer, env);
  await eventually(async () => (await pending()) === 0);
  const eventId = (await first.pg.client.query<{ id: string }>('SELECT id FROM session_outbox')).rows[0]!.id;

  // 3. A crash after the PubAck but before the mark: the row is pending again and republished.
  second.svc.shutdown('test');
  await second.svc.done;
  await first.pg.client.query('UPDATE session_outbox SET published_at = NULL WHERE id = $1', [eventId]);
  await startUserSvc(defer, env);
  await eventually(async () => (await pending()) === 0);

  const nats = await connectNats({ url: infra.natsUrl, name: 'user-outbox-test' });
  defer(() => nats.close());
  const info = await nats.client.jsm.streams.info(first.sessionEvents.stream);
  assert.equal(info.state.messages, 1);
  const m = await nats.client.jsm.streams.getMessage(first.sessionEvents.stream, { seq: info.state.first_seq });
  const e = m.json<SessionRevokedEvent>();
  assert.equal(e.id, eventId);
  assert.equal(e.type, 'session.revoked');
  assert.equal(e.user_id, me.id);
  assert.equal(m.subject, `${first.sessionEvents.prefix}.session.revoked`);
  assert.equal(m.header?.get('Nats-Msg-Id'), eventId);
});

test('only a revocation that changes a session writes an outbox row', async (t) => {
  const defer = deferrer(t);
  const u = await startUserSvc(defer);
  const me = await newUser(u.http);
  assert.equal((await call(u.http, 'DELETE', '/v1/sessions/current', { token: me.token })).status, 204);
  assert.equal((await call(u.http, 'DELETE', '/v1/sessions/current', { token: me.token })).status, 401);
  assert.equal((await u.pg.client.query('SELECT 1 FROM session_outbox')).rowCount, 1);
});
