import { z } from 'zod';
import { CLIENT_MSG_ID_PATTERN, parseMessageId, ROOM_TOKEN_PATTERN, USER_TOKEN_PATTERN } from './ids.js';
import { containsNul, hasLoneSurrogate, isBlankText, utf8ByteLength } from './text.js';

/**
 * The one message shape. The same UTF-8 JSON travels as the JetStream message body, as the
 * Kafka record value, inside the edge's `history` and `message` frames, and in every REST
 * answer that returns messages; @parley/envelope holds its codec (strict decode, canonical
 * encode), this file only its schema.
 *
 *   {
 *     "v": 1,                      envelope version; a reader rejects versions it does not know
 *     "id": "1234567890123456789", snowflake, decimal string (int64 does not fit a JS number)
 *     "room_id": "r-42",           [a-z0-9_-]{1,64}: also a NATS subject token and the Kafka key;
 *                                  lower case, so one room has one spelling (rooms are UUIDs)
 *     "sender_id": "u-7",          [A-Za-z0-9_-]{1,64}
 *     "sender_name": "Ada",        display name at send time, 1..128 bytes, visible, no NUL
 *     "body": "hello",             UTF-8 text, 1..maxBodyBytes bytes (default 4096), visible, no NUL
 *     "client_msg_id": "c-1",      the sender's retry key, [A-Za-z0-9_-]{1,64}
 *     "kind": "message",           message now; later kinds are added here, nowhere else
 *     "created_at": 1717000000000  epoch ms, always equal to the time inside `id`
 *   }
 *
 * Unknown fields, wrong types and lone surrogates are rejected, so whatever passes can be
 * written to Cassandra and Elasticsearch as is. The body's byte limit is configurable and so is
 * checked by the codec, not here.
 */
export const ENVELOPE_VERSION = 1;
export const DEFAULT_MAX_BODY_BYTES = 4096;
export const MESSAGE_KINDS = ['message'] as const;
export type MessageKind = (typeof MESSAGE_KINDS)[number];
export const MAX_SENDER_NAME_BYTES = 128;

const wellFormed = z.string().refine((s) => !hasLoneSurrogate(s), 'contains a lone surrogate');
const visible = (what: string) =>
  wellFormed.refine((s) => !isBlankText(s), `${what} must have visible text`).refine((s) => !containsNul(s), `${what} must not contain NUL`);

export const messageIdText = z.string().refine((s) => parseMessageId(s) !== undefined, 'must be a positive int64 as a decimal string');
export const clientMsgIdText = z.string().regex(CLIENT_MSG_ID_PATTERN, 'must match [A-Za-z0-9_-]{1,64}');

export const messageSchema = z
  .strictObject({
    v: z.literal(ENVELOPE_VERSION),
    id: messageIdText,
    room_id: z.string().regex(ROOM_TOKEN_PATTERN, 'must match [a-z0-9_-]{1,64} (a room id in its canonical, lower-case form)'),
    sender_id: z.string().regex(USER_TOKEN_PATTERN, 'must match [A-Za-z0-9_-]{1,64}'),
    sender_name: visible('sender_name').refine((s) => utf8ByteLength(s) <= MAX_SENDER_NAME_BYTES, `must be at most ${MAX_SENDER_NAME_BYTES} bytes`),
    body: visible('body'),
    client_msg_id: clientMsgIdText,
    kind: z.enum(MESSAGE_KINDS),
    created_at: z.number().int().nonnegative(),
  })
  .meta({ id: 'Message', description: 'A chat message, exactly as stored and as every client receives it.' });

export type Message = z.infer<typeof messageSchema>;
