import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import type { RoomEvent, RoomEventType } from '@parley/contracts';
import { roomEventSubject, roomEventSubjects } from '@parley/nats';

export type { RoomEvent, RoomEventType };

/**
 * Room lifecycle events (shapes and layout: @parley/contracts events.ts), on their own subjects
 * so they never reach the chat message stream (chat.room.<roomId>.msg). The msgID is the event
 * id, so JetStream drops a repeat inside its duplicate window.
 */
/** The subject of one event (layout in @parley/nats subjects.ts). */
export function eventSubject(prefix: string, roomId: string, type: RoomEventType): string {
  return roomEventSubject(prefix, roomId, type);
}

/** Every subject the events stream captures. */
export function eventStreamSubjects(prefix: string): string[] {
  return roomEventSubjects(prefix).stream;
}

/** Writes the event into the outbox on the caller's transaction: it commits or rolls back with the change. */
export async function recordEvent<T extends RoomEventType>(
  tx: pg.PoolClient,
  prefix: string,
  e: { type: T; roomId: string; actorId: string; data: Extract<RoomEvent, { type: T }>['data'] },
): Promise<RoomEvent> {
  const event = { v: 1, id: randomUUID(), type: e.type, room_id: e.roomId, actor_id: e.actorId, occurred_at: new Date().toISOString(), data: e.data } as Extract<RoomEvent, { type: T }>;
  await tx.query('INSERT INTO room_outbox (id, subject, payload) VALUES ($1, $2, $3)', [event.id, eventSubject(prefix, e.roomId, e.type), event]);
  return event;
}
