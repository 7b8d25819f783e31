import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import type { SessionRevokedEvent } from '@parley/contracts';
import { sessionEventStreamSubjects, sessionRevokedSubject } from '@parley/nats';

/**
 * Session events (shape and layout: @parley/contracts events.ts), so edges can end the live
 * sockets of a session that was revoked:
 *
 *   subject  <SESSION_EVENTS_PREFIX>.session.revoked               (prefix default parley.events)
 *   stream   SESSION_EVENTS_STREAM (default SESSION_EVENTS), subjects <prefix>.session.>,
 *            kept 24 h, duplicate window 2 min (msgID = event id)
 *
 * Events are written to session_outbox in the revoking transaction and published by
 * the OutboxRelay of @parley/outbox: delivery is at least once, and the msgID lets JetStream
 * store each id once inside the duplicate window.
 */
export type { SessionRevokedEvent };

export { sessionRevokedSubject };

/** Every subject the session events stream captures. */
export const sessionStreamSubjects = sessionEventStreamSubjects;

/** Writes the event into the outbox on the caller's transaction: it commits or rolls back with the revocation. */
export async function recordSessionRevoked(tx: pg.PoolClient, prefix: string, userId: string, tokenHash: Buffer): Promise<SessionRevokedEvent> {
  const event: SessionRevokedEvent = {
    v: 1,
    id: randomUUID(),
    type: 'session.revoked',
    user_id: userId,
    token_sha256: tokenHash.toString('hex'),
    occurred_at: new Date().toISOString(),
  };
  await tx.query('INSERT INTO session_outbox (id, subject, payload) VALUES ($1, $2, $3)', [event.id, sessionRevokedSubject(prefix), event]);
  return event;
}
