import { z } from 'zod';
import { containsNul, isBlankText } from '@parley/contracts';
import { ParleyError, type ErrorCode } from '@parley/errors';
import { parseId, timeOf } from './snowflake.js';
import { isValidRoomToken } from './subjects.js';

/**
 * The one message envelope. The same UTF-8 JSON bytes travel as the JetStream message body and
 * as the Kafka record value; every hop decodes them with `decodeEnvelope` and nothing else.
 *
 *   {
 *     "v": 1,                      envelope version; a reader rejects versions it does not know
 *     "id": "1234567890123456789", snowflake, decimal string (int64 does not fit a JS number)
 *     "room_id": "r-42",           [a-z0-9_-]{1,64}: also a NATS subject token and the Kafka key;
 *                                  lower case, so one room has one spelling (rooms are UUIDs)
 *     "sender_id": "u-7",          [A-Za-z0-9_-]{1,64}
 *     "sender_name": "Ada",        display name at send time, 1..128 bytes
 *     "body": "hello",             UTF-8 text, 1..maxBodyBytes bytes (default 4096), visible, no NUL
 *     "client_msg_id": "c-1",      the sender's retry key, [A-Za-z0-9_-]{1,64}
 *     "kind": "message",           message now; edit, delete, reaction are future kinds
 *     "created_at": 1717000000000  epoch ms, always equal to the time inside `id`
 *   }
 *
 * Decoding is strict: unknown fields, wrong types, invalid UTF-8 and lone surrogates are
 * rejected, so whatever passes can be written to Cassandra and Elasticsearch as is.
 */
export const ENVELOPE_VERSION = 1;
export const DEFAULT_MAX_BODY_BYTES = 4096;
export const MESSAGE_KINDS = ['message'] as const;
export type MessageKind = (typeof MESSAGE_KINDS)[number];

export interface Envelope {
  v: typeof ENVELOPE_VERSION;
  id: string;
  room_id: string;
  sender_id: string;
  sender_name: string;
  body: string;
  client_msg_id: string;
  kind: MessageKind;
  created_at: number;
}

/** Stable reason codes: they go into dead-letter headers and dashboards. */
export type EnvelopeRejection = 'bad_encoding' | 'bad_json' | 'unsupported_version' | 'invalid_field' | 'body_too_large' | 'too_large';

export class EnvelopeError extends ParleyError {
  readonly reason: EnvelopeRejection;
  constructor(reason: EnvelopeRejection, message: string, code: ErrorCode = 'POISON_MESSAGE') {
    super(code, message, { canRetry: false, details: { reason } });
    this.name = 'EnvelopeError';
    this.reason = reason;
  }
}

export interface EnvelopeLimits {
  maxBodyBytes?: number;
}

const TOKEN = /^[A-Za-z0-9_-]{1,64}$/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const utf8 = new TextDecoder('utf-8', { fatal: true });
const encoder = new TextEncoder();

const wellFormed = z.string().refine((s) => !LONE_SURROGATE.test(s), 'contains a lone surrogate');
const token = z.string().regex(TOKEN, 'must match [A-Za-z0-9_-]{1,64}');

const schema = z.strictObject({
  v: z.literal(ENVELOPE_VERSION),
  id: z.string().refine((s) => parseId(s) !== undefined, 'must be a positive int64 as a decimal string'),
  room_id: z.string().refine(isValidRoomToken, 'must match [a-z0-9_-]{1,64} (a room id in its canonical, lower-case form)'),
  sender_id: token,
  sender_name: wellFormed.refine((s) => !isBlankText(s) && !containsNul(s) && Buffer.byteLength(s) <= 128, 'must be 1..128 bytes, visible, without NUL'),
  body: wellFormed.refine((s) => !isBlankText(s), 'must have visible text').refine((s) => !containsNul(s), 'must not contain NUL'),
  client_msg_id: token,
  kind: z.enum(MESSAGE_KINDS),
  created_at: z.number().int().nonnegative(),
});

/** Validates a value already in memory (the edge builds envelopes; workers decode them). */
export function validateEnvelope(value: unknown, limits: EnvelopeLimits = {}): Envelope {
  const maxBody = limits.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  if (typeof value === 'object' && value !== null && 'v' in value && value.v !== ENVELOPE_VERSION) {
    throw new EnvelopeError('unsupported_version', `envelope version ${JSON.stringify(value.v)} is not supported (want ${ENVELOPE_VERSION})`);
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const msg = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new EnvelopeError('invalid_field', msg, 'VALIDATION_FAILED');
  }
  const env = parsed.data;
  if (Buffer.byteLength(env.body) > maxBody) {
    throw new EnvelopeError('body_too_large', `body is ${Buffer.byteLength(env.body)} bytes, limit ${maxBody}`, 'PAYLOAD_TOO_LARGE');
  }
  if (env.created_at !== timeOf(BigInt(env.id))) {
    throw new EnvelopeError('invalid_field', 'created_at must equal the time inside id', 'VALIDATION_FAILED');
  }
  return env;
}

/** Decodes wire bytes (NATS body or Kafka value). Throws EnvelopeError, never anything else. */
export function decodeEnvelope(bytes: Uint8Array | string, limits: EnvelopeLimits = {}): Envelope {
  const maxBody = limits.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  // JSON escaping can inflate a body six-fold; anything bigger is rejected before parsing.
  const maxRaw = maxBody * 6 + 2048;
  const size = typeof bytes === 'string' ? Buffer.byteLength(bytes) : bytes.byteLength;
  if (size > maxRaw) throw new EnvelopeError('too_large', `record is ${size} bytes, limit ${maxRaw}`, 'PAYLOAD_TOO_LARGE');
  let text: string;
  try {
    text = typeof bytes === 'string' ? bytes : utf8.decode(bytes);
  } catch {
    throw new EnvelopeError('bad_encoding', 'record is not valid UTF-8');
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new EnvelopeError('bad_json', `record is not JSON: ${(err as Error).message}`);
  }
  return validateEnvelope(value, limits);
}

/** Canonical bytes: fixed field order, so the same envelope always encodes the same. */
export function encodeEnvelope(env: Envelope): Uint8Array {
  const ordered: Envelope = {
    v: env.v,
    id: env.id,
    room_id: env.room_id,
    sender_id: env.sender_id,
    sender_name: env.sender_name,
    body: env.body,
    client_msg_id: env.client_msg_id,
    kind: env.kind,
    created_at: env.created_at,
  };
  return encoder.encode(JSON.stringify(ordered));
}

export interface NewMessage {
  room_id: string;
  sender_id: string;
  sender_name: string;
  body: string;
  client_msg_id: string;
}

/** Builds and validates a message envelope for a freshly assigned id. */
export function newMessageEnvelope(id: bigint, msg: NewMessage, limits: EnvelopeLimits = {}): Envelope {
  return validateEnvelope(
    { v: ENVELOPE_VERSION, id: id.toString(), ...msg, kind: 'message', created_at: timeOf(id) },
    limits,
  );
}
