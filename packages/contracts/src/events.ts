import { z } from 'zod';

/**
 * Events that services publish for each other on NATS (never on the message subjects). Each
 * producer builds them with these types and each consumer parses them with these schemas.
 *
 * Room lifecycle, by room-svc through its outbox:
 *   subject  <ROOM_EVENTS_PREFIX>.room.<roomId>.event.<type>
 *   payload  {"v":1,"id":<uuid>,"type":<type>,"room_id":<uuid>,"actor_id":<uuid>,"occurred_at":<RFC 3339>,"data":{...}}
 *
 *   room.created         data: { name, visibility, owner_id }
 *   room.deleted         data: {}
 *   room.member_added    data: { user_id, role }
 *   room.member_removed  data: { user_id }
 *
 * Session events, by user-svc through its outbox:
 *   subject  <SESSION_EVENTS_PREFIX>.session.revoked
 *   payload  {"v":1,"id":<uuid>,"type":"session.revoked","user_id":<uuid>,"token_sha256":<64 hex>,"occurred_at":<RFC 3339>}
 *
 * The token never leaves user-svc: its sha-256 names the session to whoever already holds it.
 */
const base = { v: z.literal(1), id: z.string().min(1).max(64), room_id: z.string().min(1).max(64), actor_id: z.string().min(1).max(64), occurred_at: z.string() };

export const roomCreatedEventSchema = z.object({
  ...base,
  type: z.literal('room.created'),
  data: z.object({ name: z.string(), visibility: z.enum(['public', 'private']), owner_id: z.string() }),
});
export const roomDeletedEventSchema = z.object({ ...base, type: z.literal('room.deleted'), data: z.object({}) });
export const memberAddedEventSchema = z.object({ ...base, type: z.literal('room.member_added'), data: z.object({ user_id: z.string(), role: z.string() }) });
export const memberRemovedEventSchema = z.object({ ...base, type: z.literal('room.member_removed'), data: z.object({ user_id: z.string() }) });
/** Objects (not strict): a newer producer may add fields an older consumer ignores. */
export const roomEventSchema = z.discriminatedUnion('type', [roomCreatedEventSchema, roomDeletedEventSchema, memberAddedEventSchema, memberRemovedEventSchema]);
export type RoomEvent = z.infer<typeof roomEventSchema>;
export type RoomEventType = RoomEvent['type'];
export const ROOM_EVENT_TYPES = ['room.created', 'room.deleted', 'room.member_added', 'room.member_removed'] as const satisfies ReadonlyArray<RoomEventType>;

export const sessionRevokedEventSchema = z.object({
  v: z.literal(1),
  id: z.string().min(1).max(64),
  type: z.literal('session.revoked'),
  user_id: z.string(),
  token_sha256: z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lower-case hex digits'),
  occurred_at: z.string(),
});
export type SessionRevokedEvent = z.infer<typeof sessionRevokedEventSchema>;

const decoder = new TextDecoder();

/** Parses an event's bytes with `schema`; undefined (never a throw) for anything else. */
export function parseEvent<T>(schema: z.ZodType<T>, bytes: Uint8Array): T | undefined {
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(bytes));
  } catch {
    return undefined;
  }
  const parsed = schema.safeParse(value);
  return parsed.success ? parsed.data : undefined;
}
