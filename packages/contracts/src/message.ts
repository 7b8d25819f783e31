import { z } from 'zod';
import { CLIENT_MSG_ID_PATTERN, parseMessageId, ROOM_TOKEN_PATTERN, USER_TOKEN_PATTERN } from './ids.js';
import { containsNul, hasLoneSurrogate, isBlankText, utf8ByteLength } from './text.js';

/**
 * Two shapes live here: the *event* (what travels through the log) and the *message* (what a
 * reader gets: the current state the stores project from the events).
 *
 * Events. The same UTF-8 JSON travels as the JetStream message body and as the Kafka record
 * value; @parley/envelope holds its codec (strict decode, canonical encode). Every event is
 * keyed by its room (subject token, Kafka key), so a room's events keep one order. Fields all
 * kinds share:
 *
 *   "v": 1                       envelope version; a reader rejects versions it does not know
 *   "id": "1234567890123456789"  the event's snowflake, decimal string (int64 does not fit a JS
 *                                number); for kind "message" it is the message id
 *   "room_id": "r-42"            [a-z0-9_-]{1,64}, lower case: one room, one spelling
 *   "sender_id": "u-7"           who did it (the author of a message, the editor, the reactor)
 *   "sender_name": "Ada"         their display name at that time, 1..128 bytes, visible, no NUL
 *   "client_msg_id": "c-1"       the actor's retry key, [A-Za-z0-9_-]{1,64}: one per command,
 *                                unique per actor and room across every kind
 *   "kind": ...                  one of EVENT_KINDS, below
 *   "created_at": 1717000000000  epoch ms, always equal to the time inside `id`
 *
 * and by kind:
 *
 *   message   body, reply_to?: message id of the same room, mentions?: user ids (resolved from
 *             `@username` by the edge)
 *   edit      target_id, body, mentions?         only the target's author: re-checked by every
 *                                                projection against the stored author
 *   delete    target_id, by_owner?: true         the author, or the room's owner (checked by
 *                                                the edge against room-svc, which alone knows it)
 *   reaction  target_id, emoji, on               one reaction per actor and emoji; the latest
 *                                                event (by id) of that pair wins
 *   erase     erase_user_id?                     an operator erasure of one user's messages in
 *                                                the room (absent: every message of the room)
 *                                                up to this event's id; sender_id is the operator
 *
 * Unknown fields, wrong types and lone surrogates are rejected, so whatever passes can be
 * written to Cassandra and Elasticsearch as is. The body's byte limit is configurable and so is
 * checked by the codec, not here.
 */
export const ENVELOPE_VERSION = 1;
export const DEFAULT_MAX_BODY_BYTES = 4096;
export const EVENT_KINDS = ['message', 'edit', 'delete', 'reaction', 'erase'] as const;
export type EventKind = (typeof EVENT_KINDS)[number];
/** A stored message is always of kind "message"; the other kinds change one. */
export const MESSAGE_KINDS = ['message'] as const;
export type MessageKind = (typeof MESSAGE_KINDS)[number];
export const MAX_SENDER_NAME_BYTES = 128;
/** Distinct users one message may mention; further `@names` stay plain text. */
export const MAX_MENTIONS = 20;
/** Distinct emoji one message may carry; a reaction with a further one is refused. */
export const MAX_DISTINCT_REACTIONS = 20;

const wellFormed = z.string().refine((s) => !hasLoneSurrogate(s), 'contains a lone surrogate');
const visible = (what: string) =>
  wellFormed.refine((s) => !isBlankText(s), `${what} must have visible text`).refine((s) => !containsNul(s), `${what} must not contain NUL`);

export const messageIdText = z.string().refine((s) => parseMessageId(s) !== undefined, 'must be a positive int64 as a decimal string');
export const clientMsgIdText = z.string().regex(CLIENT_MSG_ID_PATTERN, 'must match [A-Za-z0-9_-]{1,64}');
export const userIdText = z.string().regex(USER_TOKEN_PATTERN, 'must match [A-Za-z0-9_-]{1,64}');
const roomIdText = z.string().regex(ROOM_TOKEN_PATTERN, 'must match [a-z0-9_-]{1,64} (a room id in its canonical, lower-case form)');
const senderName = visible('sender_name').refine((s) => utf8ByteLength(s) <= MAX_SENDER_NAME_BYTES, `must be at most ${MAX_SENDER_NAME_BYTES} bytes`);
const mentionList = z.array(userIdText).max(MAX_MENTIONS).refine((l) => new Set(l).size === l.length, 'must not repeat a user');

/**
 * One emoji as Unicode defines it (RGI_Emoji: single code points, modifiers, flags, keycaps and
 * ZWJ sequences), nothing around it. Built at run time: the `v` flag is newer than the compile target.
 */
const EMOJI = new RegExp('^\\p{RGI_Emoji}$', 'v');
export function isEmoji(s: string): boolean {
  return EMOJI.test(s);
}
export const emojiText = z.string().max(64).refine(isEmoji, 'must be exactly one emoji');

const common = {
  v: z.literal(ENVELOPE_VERSION),
  id: messageIdText,
  room_id: roomIdText,
  sender_id: userIdText,
  sender_name: senderName,
  client_msg_id: clientMsgIdText,
  created_at: z.number().int().nonnegative(),
};

export const messageEventSchema = z
  .strictObject({
    ...common,
    kind: z.literal('message'),
    body: visible('body'),
    reply_to: messageIdText.optional(),
    mentions: mentionList.optional(),
  })
  .meta({ id: 'MessageEvent', description: 'A message was sent.' });
export const editEventSchema = z
  .strictObject({ ...common, kind: z.literal('edit'), target_id: messageIdText, body: visible('body'), mentions: mentionList.optional() })
  .meta({ id: 'EditEvent', description: "The author replaced a message's body." });
export const deleteEventSchema = z
  .strictObject({ ...common, kind: z.literal('delete'), target_id: messageIdText, by_owner: z.literal(true).optional() })
  .meta({ id: 'DeleteEvent', description: 'The author or the room owner deleted a message.' });
export const reactionEventSchema = z
  .strictObject({ ...common, kind: z.literal('reaction'), target_id: messageIdText, emoji: emojiText, on: z.boolean() })
  .meta({ id: 'ReactionEvent', description: 'A member added (on) or removed a reaction.' });
export const eraseEventSchema = z
  .strictObject({ ...common, kind: z.literal('erase'), erase_user_id: userIdText.optional() })
  .meta({ id: 'EraseEvent', description: "An operator erased one user's messages in the room, or all of them." });

export const eventSchema = z
  .discriminatedUnion('kind', [messageEventSchema, editEventSchema, deleteEventSchema, reactionEventSchema, eraseEventSchema])
  .meta({ id: 'Event', description: 'One record of the log: JetStream body and Kafka value.' });
export type ChatEvent = z.infer<typeof eventSchema>;
export type MessageEvent = z.infer<typeof messageEventSchema>;
export type EditEvent = z.infer<typeof editEventSchema>;
export type DeleteEvent = z.infer<typeof deleteEventSchema>;
export type ReactionEvent = z.infer<typeof reactionEventSchema>;
export type EraseEvent = z.infer<typeof eraseEventSchema>;
/** An event that changes an existing message. */
export type ChangeEvent = EditEvent | DeleteEvent | ReactionEvent;

export const reactionCountSchema = z
  .strictObject({ emoji: z.string(), count: z.number().int().min(1), me: z.boolean() })
  .meta({ id: 'ReactionCount', description: 'How many members reacted with this emoji, and whether the reader did.' });
export type ReactionCount = z.infer<typeof reactionCountSchema>;

/**
 * A message as readers get it: in `history`, `message` and `message_updated` frames and in every
 * REST answer. A freshly sent message is exactly its `message` event (the live frame carries
 * those bytes), so the fields that describe later changes are optional and mean, when absent:
 * version 1, never edited, not deleted, no reactions, no replies.
 *
 *   version        1 + the number of edits; only grows
 *   edited_at      epoch ms of the edit shown
 *   deleted_at     epoch ms of the deletion; then body is "" and mentions are gone
 *   reactions      per emoji: count and whether the reader reacted, most used first
 *   reply_count, last_reply_id   the thread below this message
 *   changed_at     epoch ms of the latest change of any kind (created_at when none): what a
 *                  client compares to keep the newer of two copies
 */
export const messageSchema = z
  .strictObject({
    v: z.literal(ENVELOPE_VERSION),
    id: messageIdText,
    room_id: roomIdText,
    sender_id: userIdText,
    sender_name: senderName,
    body: z.string(),
    client_msg_id: clientMsgIdText,
    kind: z.enum(MESSAGE_KINDS),
    created_at: z.number().int().nonnegative(),
    reply_to: messageIdText.optional(),
    mentions: z.array(userIdText).optional(),
    version: z.number().int().min(1).optional(),
    edited_at: z.number().int().nonnegative().optional(),
    deleted_at: z.number().int().nonnegative().optional(),
    reactions: z.array(reactionCountSchema).optional(),
    reply_count: z.number().int().nonnegative().optional(),
    last_reply_id: messageIdText.optional(),
    changed_at: z.number().int().nonnegative().optional(),
  })
  .meta({ id: 'Message', description: 'A chat message in its current state, as every client receives it.' });

export type Message = z.infer<typeof messageSchema>;

export const messageVersionSchema = z
  .strictObject({ version: z.number().int().min(1), body: z.string(), at: z.number().int().nonnegative() })
  .meta({ id: 'MessageVersion', description: 'One body a message had: version 1 is the original.' });
export type MessageVersion = z.infer<typeof messageVersionSchema>;
