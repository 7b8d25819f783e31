import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { deferrer, freePort } from '@parley/test-support';
import { call, newUser, startUserSvc } from '@parley/test-support/user-svc';

const hash = (token: string) => createHash('sha256').update(token).digest();

test('expired sessions and published outbox rows are pruned periodically; live sessions and unpublished rows stay', async (t) => {
  const defer = deferrer(t);
  // NATS unreachable: a logout's outbox row stays unpublished, however old it gets.
  const u = await startUserSvc(defer, {
    NATS_URL: `nats://127.0.0.1:${await freePort()}`,
    USER_OUTBOX_MAX_BACKOFF_MS: '200',
    SESSION_PRUNE_AFTER_MS: String(3600_000),
    SESSION_PRUNE_EVERY_MS: '200',
    USER_OUTBOX_KEEP_PUBLISHED_MS: String(3600_000),
    USER_OUTBOX_PRUNE_EVERY_MS: '200',
  });
  const db = u.pg.client;
  const live = await newUser(u.http);
  const [longExpired, justExpired, loggedOut] = [await newUser(u.http), await newUser(u.http), await newUser(u.http)];
  await db.query(`UPDATE sessions SET expires_at = now() - interval '2 hours' WHERE token_hash = $1`, [hash(longExpired.token)]);
  await db.query(`UPDATE sessions SET expires_at = now() - interval '10 minutes' WHERE token_hash = $1`, [hash(justExpired.token)]);
  assert.equal((await call(u.http, 'DELETE', '/v1/sessions/current', { token: loggedOut.token })).status, 204);
  // Two rows announced long ago and one recently (as the relay would have marked them), and the
  // logout's row, pending for two hours.
  await db.query(`UPDATE session_outbox SET created_at = now() - interval '2 hours'`);
  await db.query(
    `INSERT INTO session_outbox (id, subject, payload, created_at, published_at) VALUES
       (gen_random_uuid(), 'x.session.revoked', '{}', now() - interval '3 hours', now() - interval '3 hours'),
       (gen_random_uuid(), 'x.session.revoked', '{}', now() - interval '2 hours', now() - interval '2 hours'),
       (gen_random_uuid(), 'x.session.revoked', '{}', now() - interval '5 minutes', now() - interval '5 minutes')`,
  );

  await new Promise((r) => setTimeout(r, 1500)); // several prune rounds
  const sessions = (await db.query<{ token_hash: Buffer }>('SELECT token_hash FROM sessions')).rows.map((r) => r.token_hash.toString('hex'));
  assert.deepEqual(sessions.sort(), [live, justExpired, loggedOut].map((x) => hash(x.token).toString('hex')).sort(), 'only the session expired beyond SESSION_PRUNE_AFTER_MS is gone');
  assert.equal((await call(u.http, 'GET', '/v1/me', { token: live.token })).status, 200);
  const outbox = await db.query<{ pending: boolean; recent: boolean }>(`SELECT published_at IS NULL AS pending, published_at > now() - interval '1 hour' AS recent FROM session_outbox ORDER BY seq`);
  assert.deepEqual(outbox.rows, [{ pending: true, recent: null }, { pending: false, recent: true }], 'the pending row and the recently published one stay');
});
