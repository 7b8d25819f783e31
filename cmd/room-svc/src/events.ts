import { randomUUID } from 'node:crypto';
import type pg from 'pg';

/**
 * Room lifecycle events, on their own subjects so they never reach the chat message stream
 * (chat.room.<roomId>.msg):
 *
 *   subject  <prefix>.room.<roomId>.event.<type>      e.g. parley.events.room.9f…e1.event.room.deleted
 *   msgID    event id (JetStream drops a repeat inside its duplicate window)
 *   payload  { "v": 1, "id": "<uuid>", "type": "room.deleted", "room_id": "<uuid>",
 *              "actor_id": "<uuid>", "occurred_at": "<RFC 3339>", "data": { ... } }
 *
 *   room.created         data: { name, visibility, owner_id }
 *   room.deleted         data: {}
 *   room.member_added    data: { user_id, role }
 *   room.member_removed  data: { user_id }
 */
export type RoomEventType = 'room.created' | 'room.deleted' | 'room.member_added' | 'room.member_removed';

export interface RoomEvent {
  v: 1;
  id: string;
  type: RoomEventType;
  room_id: string;
  actor_id: string;
  occurred_at: string;
  data: Record<string, unknown>;
}

export function eventSubject(prefix: string, roomId: string, type: RoomEventType): string {
  return `${prefix}.room.${roomId}.event.${type}`;
}

/** Every subject the events stream captures. */
export function eventStreamSubjects(prefix: string): string[] {
  return [`${prefix}.room.>`];
}

/** Writes the event into the outbox on the caller's transaction: it commits or rolls back with the change. */
export async function recordEvent(
  tx: pg.PoolClient,
  prefix: string,
  e: { type: RoomEventType; roomId: string; actorId: string; data?: Record<string, unknown> },
): Promise<RoomEvent> {
  const event: RoomEvent = { v: 1, id: randomUUID(), type: e.type, room_id: e.roomId, actor_id: e.actorId, occurred_at: new Date().toISOString(), data: e.data ?? {} };
  await tx.query('INSERT INTO room_outbox (id, subject, payload) VALUES ($1, $2, $3)', [event.id, eventSubject(prefix, e.roomId, e.type), event]);
  return event;
}
