import { z } from 'zod';
import { clientMsgIdText, emojiText, messageIdText, messageSchema } from './message.js';

/**
 * The WebSocket protocol of the edge (`/v1/rooms/{roomId}/ws`, subprotocol `parley.v1`). Every
 * frame is one UTF-8 JSON text frame holding an object with a `type`.
 *
 *   client → server
 *     {"type":"send","client_msg_id":"c-1","body":"hi","reply_to"?:"<id>","retry"?:true}   acknowledged by `ack`, or `error` with the same client_msg_id
 *     {"type":"edit","message_id":"<id>","body":"hi!","client_msg_id":"c-2"}   your own message only
 *     {"type":"delete","message_id":"<id>","client_msg_id":"c-3"}              yours, or any if you own the room
 *     {"type":"react","message_id":"<id>","emoji":"👍","on":true,"client_msg_id":"c-4"}
 *     {"type":"typing"}                                    the member is typing (throttled; never stored)
 *     {"type":"read","message_id":"<id>"}                  mark the room read up to a message (only forward)
 *     {"type":"ping"}                                      answered with {"type":"pong"}
 *
 *   Every command is acknowledged by `ack` once the log stored it (its `id` is the new
 *   message's id for `send`, the change event's id otherwise); the change itself reaches every
 *   member, the actor included, as `message_updated` once the store applied it.
 *
 *   server → client
 *     {"type":"history","room_id":R,"messages":[M…],"has_more":b}   once, oldest to newest
 *     {"type":"history_unavailable","room_id":R,"code":C}         instead of history; live continues
 *     {"type":"message","message":M}                            every live message, in room order
 *     {"type":"message_updated","message":M}                    a message changed (edit, delete, reaction,
 *                                                               reply count): M is its whole current state;
 *                                                               keep the copy with the larger changed_at
 *     {"type":"ack","client_msg_id":"c-1","id":"<snowflake>"}    after JetStream stored it
 *     {"type":"error","code":C,"message":"…","client_msg_id"?:"c-1","retry_after_ms"?:n}
 *     {"type":"room_deleted","room_id":R}                       then close 4404
 *     {"type":"typing","user_id":U,"name":N}                    another member is typing; show it for TYPING_SHOW_MS
 *     {"type":"receipts","items":[{"user_id":U,"message_id":I}…]} read marks that moved, batched per room
 *     {"type":"unread","room_id":R,"messages":n,"mentions":m}   your own counts: after the join and each read
 *     {"type":"presence","room_id":R,"online":[{user_id,name,since}…]}   once after history: who is online
 *     {"type":"presence_diff","joined":[…],"left":[…]}          then who came and went, batched
 *     {"type":"pong"}
 *
 * M is the message of ./message.ts. The edge writes frames by hand for speed (a live message is
 * spliced into its frame without re-encoding); tests hold what it writes to these schemas.
 */

export const sendFrameSchema = z
  .strictObject({
    type: z.literal('send'),
    client_msg_id: clientMsgIdText,
    body: z.string(),
    reply_to: messageIdText.optional(),
    retry: z
      .literal(true)
      .optional()
      .meta({ description: 'this client_msg_id was sent before (a resend after a reconnect): the edge then also asks the store, so a retry at any age is answered with the first id' }),
  })
  .meta({ id: 'SendFrame' });
export const editFrameSchema = z
  .strictObject({ type: z.literal('edit'), message_id: messageIdText, body: z.string(), client_msg_id: clientMsgIdText })
  .meta({ id: 'EditFrame' });
export const deleteFrameSchema = z.strictObject({ type: z.literal('delete'), message_id: messageIdText, client_msg_id: clientMsgIdText }).meta({ id: 'DeleteFrame' });
export const reactFrameSchema = z
  .strictObject({ type: z.literal('react'), message_id: messageIdText, emoji: emojiText, on: z.boolean(), client_msg_id: clientMsgIdText })
  .meta({ id: 'ReactFrame' });
export const pingFrameSchema = z.strictObject({ type: z.literal('ping') }).meta({ id: 'PingFrame' });
export const typingFrameSchema = z.strictObject({ type: z.literal('typing') }).meta({ id: 'TypingFrame', description: 'The member is typing: sent at most every TYPING_THROTTLE_MS.' });
export const readFrameSchema = z
  .strictObject({ type: z.literal('read'), message_id: messageIdText })
  .meta({ id: 'ReadFrame', description: 'Marks the room read up to a message; a mark only moves forward.' });
export const clientFrameSchema = z
  .discriminatedUnion('type', [sendFrameSchema, editFrameSchema, deleteFrameSchema, reactFrameSchema, typingFrameSchema, readFrameSchema, pingFrameSchema])
  .meta({ id: 'ClientFrame' });
export type SendFrame = z.infer<typeof sendFrameSchema>;
export type EditFrame = z.infer<typeof editFrameSchema>;
export type DeleteFrame = z.infer<typeof deleteFrameSchema>;
export type ReactFrame = z.infer<typeof reactFrameSchema>;
export type ClientFrame = z.infer<typeof clientFrameSchema>;
export type TypingFrame = z.infer<typeof typingFrameSchema>;
export type ReadFrame = z.infer<typeof readFrameSchema>;
/** A frame that asks for a change of a message and is acknowledged. */
export type CommandFrame = Exclude<ClientFrame, { type: 'ping' | 'typing' | 'read' }>;
/** The `type` values a client may send, in one place. */
export const CLIENT_FRAME_TYPES = ['send', 'edit', 'delete', 'react', 'typing', 'read', 'ping'] as const satisfies ReadonlyArray<ClientFrame['type']>;
/** A member's typing frames beyond one per this interval are dropped. */
export const TYPING_THROTTLE_MS = 2000;
/** How long a client shows "… is typing" after the last typing frame of that member. */
export const TYPING_SHOW_MS = 5000;

/** Stable `code` values of the `error` frame; clients switch on these, never on `message`. */
export const ERROR_FRAME_CODES = [
  'binary_not_supported',
  'invalid_json',
  'invalid_frame',
  'unknown_type',
  'invalid_client_msg_id',
  'body_empty',
  'body_too_large',
  'rate_limited',
  'too_many_in_flight',
  'unavailable',
  'invalid_message_id',
  'invalid_emoji',
  'message_not_found',
  'message_deleted',
  'not_author',
  'not_allowed',
  'too_many_reactions',
  'reply_not_found',
] as const;
export type ErrorFrameCode = (typeof ERROR_FRAME_CODES)[number];

export const historyFrameSchema = z
  .strictObject({ type: z.literal('history'), room_id: z.string(), messages: z.array(messageSchema), has_more: z.boolean() })
  .meta({ id: 'HistoryFrame', description: 'Sent once after the upgrade: what the room holds before live messages, oldest to newest.' });
export const historyUnavailableFrameSchema = z
  .strictObject({ type: z.literal('history_unavailable'), room_id: z.string(), code: z.string() })
  .meta({ id: 'HistoryUnavailableFrame', description: 'History could not be read; live messages still follow.' });
export const messageFrameSchema = z.strictObject({ type: z.literal('message'), message: messageSchema }).meta({ id: 'MessageFrame' });
export const messageUpdatedFrameSchema = z
  .strictObject({ type: z.literal('message_updated'), message: messageSchema })
  .meta({ id: 'MessageUpdatedFrame', description: 'The whole current state of a message that changed.' });
export const ackFrameSchema = z.strictObject({ type: z.literal('ack'), client_msg_id: clientMsgIdText, id: messageIdText }).meta({ id: 'AckFrame' });
export const errorFrameSchema = z
  .strictObject({
    type: z.literal('error'),
    code: z.enum(ERROR_FRAME_CODES),
    message: z.string(),
    client_msg_id: clientMsgIdText.optional(),
    retry_after_ms: z.number().int().nonnegative().optional(),
  })
  .meta({ id: 'ErrorFrame' });
export const roomDeletedFrameSchema = z.strictObject({ type: z.literal('room_deleted'), room_id: z.string() }).meta({ id: 'RoomDeletedFrame' });
export const pongFrameSchema = z.strictObject({ type: z.literal('pong') }).meta({ id: 'PongFrame' });
export const memberTypingFrameSchema = z
  .strictObject({ type: z.literal('typing'), user_id: z.string(), name: z.string() })
  .meta({ id: 'MemberTypingFrame', description: 'Another member is typing; show it for TYPING_SHOW_MS unless it repeats.' });
export const receiptsFrameSchema = z
  .strictObject({ type: z.literal('receipts'), items: z.array(z.strictObject({ user_id: z.string(), message_id: messageIdText })) })
  .meta({ id: 'ReceiptsFrame', description: "Members' read marks that moved, batched: each item is a member's mark now." });
export const presenceMemberSchema = z
  .strictObject({ user_id: z.string(), name: z.string(), since: z.number().int().nonnegative().meta({ description: 'epoch ms: online since' }) })
  .meta({ id: 'PresenceMember' });
export type PresenceMember = z.infer<typeof presenceMemberSchema>;
export const presenceFrameSchema = z
  .strictObject({ type: z.literal('presence'), room_id: z.string(), online: z.array(presenceMemberSchema) })
  .meta({ id: 'PresenceFrame', description: 'Once after history: the members online in the room, on any edge.' });
export const presenceDiffFrameSchema = z
  .strictObject({ type: z.literal('presence_diff'), joined: z.array(presenceMemberSchema), left: z.array(presenceMemberSchema) })
  .meta({ id: 'PresenceDiffFrame', description: 'Members who came online or went offline since the last frame.' });
export const unreadFrameSchema = z
  .strictObject({ type: z.literal('unread'), room_id: z.string(), messages: z.number().int().nonnegative(), mentions: z.number().int().nonnegative() })
  .meta({ id: 'UnreadFrame', description: 'Your own unread counts in this room: after the join and after each read.' });
export const serverFrameSchema = z
  .discriminatedUnion('type', [
    historyFrameSchema,
    historyUnavailableFrameSchema,
    messageFrameSchema,
    messageUpdatedFrameSchema,
    ackFrameSchema,
    errorFrameSchema,
    roomDeletedFrameSchema,
    pongFrameSchema,
    memberTypingFrameSchema,
    receiptsFrameSchema,
    unreadFrameSchema,
    presenceFrameSchema,
    presenceDiffFrameSchema,
  ])
  .meta({ id: 'ServerFrame' });
export type ServerFrame = z.infer<typeof serverFrameSchema>;
export type HistoryFrame = z.infer<typeof historyFrameSchema>;
export type HistoryUnavailableFrame = z.infer<typeof historyUnavailableFrameSchema>;
export type MessageFrame = z.infer<typeof messageFrameSchema>;
export type MessageUpdatedFrame = z.infer<typeof messageUpdatedFrameSchema>;
export type AckFrame = z.infer<typeof ackFrameSchema>;
export type ErrorFrame = z.infer<typeof errorFrameSchema>;
export type RoomDeletedFrame = z.infer<typeof roomDeletedFrameSchema>;
export type PongFrame = z.infer<typeof pongFrameSchema>;
export type MemberTypingFrame = z.infer<typeof memberTypingFrameSchema>;
export type ReceiptsFrame = z.infer<typeof receiptsFrameSchema>;
export type UnreadFrame = z.infer<typeof unreadFrameSchema>;
export type PresenceFrame = z.infer<typeof presenceFrameSchema>;
export type PresenceDiffFrame = z.infer<typeof presenceDiffFrameSchema>;
export const SERVER_FRAME_TYPES = ['history', 'history_unavailable', 'message', 'message_updated', 'ack', 'error', 'room_deleted', 'pong', 'typing', 'receipts', 'unread', 'presence', 'presence_diff'] as const satisfies ReadonlyArray<ServerFrame['type']>;

/**
 * Close codes the edge ends a socket with, and what a client should do about each. 1006 (no
 * close frame) also happens: uWebSockets.js drops a connection that sent an oversize or
 * invalid-UTF-8 frame without a close frame, and so does a network failure.
 */
export const CloseCodes = {
  NORMAL: 1000,
  /** A frame over REALTIME_MAX_FRAME_BYTES: uWebSockets.js drops the connection (clients see 1006). */
  MESSAGE_TOO_BIG: 1009,
  /** The edge is shutting down: reconnect (to another instance) and resume with last_id. */
  SERVICE_RESTART: 1012,
  /** The socket fell too far behind (send buffer over REALTIME_MAX_BACKPRESSURE): reconnect and resume. */
  SLOW_CONSUMER: 4008,
  /** Too many rejected frames within a window. Do not reconnect blindly: fix the client. */
  PROTOCOL_ABUSE: 4400,
  /** The session was revoked (logout) or expired: log in again before reconnecting. */
  SESSION_ENDED: 4401,
  /** The member was removed from the room. */
  MEMBERSHIP_REVOKED: 4403,
  /** The room was deleted. */
  ROOM_DELETED: 4404,
  /** Too many rate-limited sends within a window. Reconnect after a pause. */
  RATE_ABUSE: 4429,
} as const;
export type CloseCode = (typeof CloseCodes)[keyof typeof CloseCodes];

/** What a client does after each close: the SDK and the web page follow this table. */
export const CLOSE_ADVICE: Record<number, 'resume' | 'stop' | 'login' | 'pause_then_resume'> = {
  [CloseCodes.NORMAL]: 'stop',
  [CloseCodes.SERVICE_RESTART]: 'resume',
  [CloseCodes.SLOW_CONSUMER]: 'resume',
  [CloseCodes.PROTOCOL_ABUSE]: 'stop',
  [CloseCodes.SESSION_ENDED]: 'login',
  [CloseCodes.MEMBERSHIP_REVOKED]: 'stop',
  [CloseCodes.ROOM_DELETED]: 'stop',
  [CloseCodes.RATE_ABUSE]: 'pause_then_resume',
};

/** The subprotocol clients offer next to `parley.token.<token>`. */
export const WS_SUBPROTOCOL = 'parley.v1';
export const WS_TOKEN_PROTOCOL_PREFIX = 'parley.token.';
