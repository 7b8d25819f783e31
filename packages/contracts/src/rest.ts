import { z } from 'zod';
import { messageSchema, messageVersionSchema } from './message.js';

/**
 * JSON answers shared by more than one service or client. Each service's routes declare these
 * as their response schemas; the CLI, the SDK and the web page read them with the same types.
 */

/** Every REST error, from every service: a stable code, a message for people, maybe details. */
export const errorBodySchema = z
  .object({ error: z.object({ code: z.string(), message: z.string(), details: z.record(z.string(), z.unknown()).optional() }) })
  .meta({ id: 'ErrorBody' });
export type ErrorBody = z.infer<typeof errorBodySchema>;

/** `/messages/latest`: a page of messages oldest to newest, paged back by `before_id`. */
export const latestPageSchema = z.object({ messages: z.array(messageSchema), has_more: z.boolean() }).meta({ id: 'LatestPage' });
export type LatestPage = z.infer<typeof latestPageSchema>;

/** A message found by search or history: the message, plus highlighted fragments for a search. */
export const foundMessageSchema = messageSchema.extend({ highlights: z.array(z.string()).optional() }).meta({ id: 'FoundMessage' });
export type FoundMessage = z.infer<typeof foundMessageSchema>;

/** `/messages` (history) and `/search`: newest or oldest first, continued with `cursor`. */
export const searchPageSchema = z.object({ messages: z.array(foundMessageSchema), next_cursor: z.string().nullable() }).meta({ id: 'SearchPage' });
export type SearchPage = z.infer<typeof searchPageSchema>;

/** `/messages/{id}/versions`: every body the message had, oldest (version 1) first; none once deleted. */
export const versionsSchema = z.object({ message_id: z.string(), versions: z.array(messageVersionSchema) }).meta({ id: 'MessageVersions' });
export type Versions = z.infer<typeof versionsSchema>;

/** `/messages/{id}/thread`: the replies below a message, oldest first, continued with `after_id`. */
export const threadPageSchema = z.object({ parent: messageSchema, messages: z.array(messageSchema), has_more: z.boolean() }).meta({ id: 'ThreadPage' });
export type ThreadPage = z.infer<typeof threadPageSchema>;

/** `PUT /v1/rooms/{roomId}/read`: the reader's mark, which only moves forward. */
export const readMarkBodySchema = z.strictObject({ message_id: z.string().meta({ description: 'the newest message read (decimal id)' }) }).meta({ id: 'ReadMarkBody' });
export const readMarkSchema = z.object({ room_id: z.string(), read_up_to: z.string() }).meta({ id: 'ReadMark' });
export type ReadMark = z.infer<typeof readMarkSchema>;

/** `GET /v1/unread`: per room of the caller, what is unread after their mark. */
export const unreadSchema = z
  .object({
    rooms: z.array(
      z.object({
        room_id: z.string(),
        read_up_to: z.string().nullable().meta({ description: 'the mark; null when nothing was marked read (then every message counts)' }),
        messages: z.number().int().nonnegative().meta({ description: 'messages after the mark, not the caller\'s, not deleted' }),
        mentions: z.number().int().nonnegative().meta({ description: 'of those, the ones that mention the caller' }),
      }),
    ),
  })
  .meta({ id: 'Unread' });
export type Unread = z.infer<typeof unreadSchema>;

/** `GET /v1/rooms/{roomId}/messages/{messageId}/readers`: who has read a message. */
export const READERS_LISTED_UP_TO = 100;
export const readersSchema = z
  .object({
    message_id: z.string(),
    count: z.number().int().nonnegative().meta({ description: 'members other than the author whose mark is at or after the message' }),
    readers: z.array(z.string()).optional().meta({ description: `their user ids, when the room has at most ${READERS_LISTED_UP_TO} read marks` }),
  })
  .meta({ id: 'Readers' });
export type Readers = z.infer<typeof readersSchema>;

/** The edge's `GET /v1/rooms/{roomId}/presence`: who is online in the room, on any edge. */
export const roomPresenceSchema = z
  .object({ room_id: z.string(), online: z.array(z.object({ user_id: z.string(), name: z.string(), since: z.number().int().nonnegative() })) })
  .meta({ id: 'RoomPresence' });
export type RoomPresence = z.infer<typeof roomPresenceSchema>;

/** The edge's `GET /v1/users/{userId}/presence` (your own): online, or offline and when last seen. */
export const userPresenceSchema = z
  .object({ user_id: z.string(), status: z.enum(['online', 'offline']), last_seen: z.number().int().nonnegative().optional().meta({ description: 'epoch ms the last socket closed' }) })
  .meta({ id: 'UserPresence' });
export type UserPresence = z.infer<typeof userPresenceSchema>;

/** `POST /v1/admin/erasures`: what an operator asks to erase. */
export const erasureRequestSchema = z
  .strictObject({
    user_id: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be a user id').optional(),
    room_id: z.string().regex(/^[a-z0-9_-]{1,64}$/, 'must be a room id (canonical, lower case)').optional(),
  })
  .refine((r) => r.user_id !== undefined || r.room_id !== undefined, { message: 'give user_id, room_id or both', path: ['user_id'] })
  .meta({ id: 'ErasureRequest' });
export type ErasureRequest = z.infer<typeof erasureRequestSchema>;

/** Its answer: per room, how many messages the erasure covers and the event that carries it. */
export const erasureReportSchema = z
  .object({
    rooms: z.array(z.object({ room_id: z.string(), messages: z.number().int().nonnegative(), event_id: z.string() })),
    messages: z.number().int().nonnegative(),
  })
  .meta({ id: 'ErasureReport' });
export type ErasureReport = z.infer<typeof erasureReportSchema>;

/*
 * Accounts, sessions and rooms, as user-svc and room-svc answer them and as the CLI, the SDK
 * and the web page read them. Ids are UUIDs in their one canonical spelling (see ids.ts) and
 * times are RFC 3339 in UTC with milliseconds (`Date.prototype.toISOString`).
 */
const canonicalUuidText = z
  .string()
  .regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, 'must be a UUID in lower case')
  .meta({ format: 'uuid' });
const instantText = z.string().meta({ format: 'date-time' });

export const userSchema = z
  .object({
    id: canonicalUuidText,
    username: z.string().meta({ description: 'unique regardless of case' }),
    display_name: z.string(),
    created_at: instantText.optional().meta({ description: 'present when the account was just created' }),
  })
  .meta({ id: 'User' });
export type User = z.infer<typeof userSchema>;

/** `POST /v1/sessions`. The same token is also set as the HttpOnly `parley_session` cookie. */
export const sessionSchema = z
  .object({
    token: z.string().meta({ description: '43 base64url characters; send it as `Authorization: Bearer <token>`' }),
    expires_at: instantText,
    user: userSchema,
  })
  .meta({ id: 'Session' });
export type Session = z.infer<typeof sessionSchema>;

/** `direct`: a room of exactly two users (`POST /v1/direct-rooms`), private, fixed members. */
export const ROOM_VISIBILITIES = ['public', 'private', 'direct'] as const;
export type RoomVisibility = (typeof ROOM_VISIBILITIES)[number];
/** What `POST /v1/rooms` may create (a direct room has its own route). */
export const CREATABLE_VISIBILITIES = ['public', 'private'] as const;
export const ROOM_ROLES = ['owner', 'member'] as const;
export type RoomRole = (typeof ROOM_ROLES)[number];

export const roomSchema = z
  .object({
    id: canonicalUuidText,
    name: z.string(),
    visibility: z.enum(ROOM_VISIBILITIES),
    owner_id: canonicalUuidText,
    created_at: instantText,
    role: z.enum(ROOM_ROLES).optional().meta({ description: "the caller's role; absent when the caller is not a member (a public room seen from outside)" }),
  })
  .meta({ id: 'Room' });
export type Room = z.infer<typeof roomSchema>;

/** `GET /v1/rooms/{roomId}/members`: one entry per member, the owner first. */
export const memberSchema = z.object({ user_id: canonicalUuidText, role: z.enum(ROOM_ROLES), joined_at: instantText }).meta({ id: 'Member' });
export type Member = z.infer<typeof memberSchema>;
