import { z } from 'zod';
import { messageIdText, messageSchema, userIdText } from './message.js';

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
 *
 * Message changes, by chat-command-cql-svc once Cassandra holds them (edges turn them into
 * `message_updated` frames):
 *   subject  <prefix>.room.<roomId>.upd   (captured by the message stream, beside .msg, so one
 *                                          ordered consumer per room carries both)
 *   payload  {"event_id":<id>,"message":M,"reactors":{"👍":[user ids…]}}
 *
 * M is the message's state with `me` false everywhere; `reactors` lists, per emoji, up to
 * MAX_LISTED_REACTORS of the members who reacted (the newest-known first is not promised), so
 * an edge can set `me` per socket. For an emoji with more reactors than that, `me` in a live
 * frame is false for the members not listed; every read (history, REST) is exact.
 */
const base = { v: z.literal(1), id: z.string().min(1).max(64), room_id: z.string().min(1).max(64), actor_id: z.string().min(1).max(64), occurred_at: z.string() };

export const roomCreatedEventSchema = z.object({
  ...base,
  type: z.literal('room.created'),
  data: z.object({ name: z.string(), visibility: z.enum(['public', 'private', 'direct']), owner_id: z.string() }),
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

/**
 * What edges tell each other about a room, on core NATS (never stored: it is not worth a
 * replay), subject <prefix>.room.<roomId>.eph, followed by every edge holding members of the
 * room: a member typing, and a member's read mark that moved.
 */
export const ephemeralEventSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('typing'), user_id: userIdText, name: z.string().max(256) }),
  z.strictObject({ kind: z.literal('receipt'), user_id: userIdText, message_id: messageIdText }),
  z.strictObject({
    kind: z.literal('presence'),
    user_id: userIdText,
    name: z.string().max(256),
    since: z.number().int().nonnegative(),
    edge: z.string().min(1).max(200),
    state: z.enum(['up', 'down']),
  }),
]);
export type EphemeralEvent = z.infer<typeof ephemeralEventSchema>;

export const MAX_LISTED_REACTORS = 64;
export const messageChangedSchema = z.strictObject({
  event_id: messageIdText,
  message: messageSchema,
  reactors: z.record(z.string(), z.array(userIdText).max(MAX_LISTED_REACTORS)),
});
export type MessageChanged = z.infer<typeof messageChangedSchema>;

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
