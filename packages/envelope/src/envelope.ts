import { DEFAULT_MAX_BODY_BYTES, ENVELOPE_VERSION, eventSchema, type ChatEvent, type MessageEvent } from '@parley/contracts';
import { ParleyError, type ErrorCode } from '@parley/errors';
import { timeOf } from './snowflake.js';

/**
 * The codec of the log's events (their schema and layout: `eventSchema` in @parley/contracts). The same UTF-8 JSON bytes travel as the JetStream message body and as the
 * Kafka record value; every hop decodes them with `decodeEnvelope` and nothing else.
 *
 * Decoding is strict: unknown fields, wrong types, invalid UTF-8 and lone surrogates are
 * rejected, so whatever passes can be written to Cassandra and Elasticsearch as is.
 */
export { DEFAULT_MAX_BODY_BYTES, ENVELOPE_VERSION, EVENT_KINDS, MESSAGE_KINDS, type EventKind, type MessageKind } from '@parley/contracts';
/** One record of the log, of any kind. */
export type Envelope = ChatEvent;

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

const utf8 = new TextDecoder('utf-8', { fatal: true });
const encoder = new TextEncoder();

/** Validates a value already in memory (the edge builds envelopes; workers decode them). */
export function validateEnvelope(value: unknown, limits: EnvelopeLimits = {}): Envelope {
  const maxBody = limits.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  if (typeof value === 'object' && value !== null && 'v' in value && value.v !== ENVELOPE_VERSION) {
    throw new EnvelopeError('unsupported_version', `envelope version ${JSON.stringify(value.v)} is not supported (want ${ENVELOPE_VERSION})`);
  }
  const parsed = eventSchema.safeParse(value);
  if (!parsed.success) {
    const msg = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new EnvelopeError('invalid_field', msg, 'VALIDATION_FAILED');
  }
  const env = parsed.data;
  if ('body' in env && Buffer.byteLength(env.body) > maxBody) {
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

/** Field order per kind: the canonical bytes (a message keeps the order it always had). */
const COMMON_HEAD = ['v', 'id', 'room_id', 'sender_id', 'sender_name'] as const;
const COMMON_TAIL = ['client_msg_id', 'kind', 'created_at'] as const;
const FIELD_ORDER: Record<Envelope['kind'], readonly string[]> = {
  message: [...COMMON_HEAD, 'body', ...COMMON_TAIL, 'reply_to', 'mentions'],
  edit: [...COMMON_HEAD, ...COMMON_TAIL, 'target_id', 'body', 'mentions'],
  delete: [...COMMON_HEAD, ...COMMON_TAIL, 'target_id', 'by_owner'],
  reaction: [...COMMON_HEAD, ...COMMON_TAIL, 'target_id', 'emoji', 'on'],
  erase: [...COMMON_HEAD, ...COMMON_TAIL, 'erase_user_id'],
};

/** Canonical bytes: fixed field order per kind, so the same envelope always encodes the same. */
export function encodeEnvelope(env: Envelope): Uint8Array {
  const source = env as unknown as Record<string, unknown>;
  const ordered: Record<string, unknown> = {};
  for (const key of FIELD_ORDER[env.kind]) if (source[key] !== undefined) ordered[key] = source[key];
  return encoder.encode(JSON.stringify(ordered));
}

type Fresh<E> = E extends unknown ? Omit<E, 'v' | 'id' | 'created_at'> : never;
/** An event before it has an id: what the edge (or an operator tool) decides to log. */
export type NewEvent = Fresh<Envelope>;
export type NewMessage = Omit<Fresh<MessageEvent>, 'kind'>;

/** Builds and validates an event for a freshly assigned id. */
export function newEventEnvelope(id: bigint, event: NewEvent, limits: EnvelopeLimits = {}): Envelope {
  return validateEnvelope({ v: ENVELOPE_VERSION, id: id.toString(), ...event, created_at: timeOf(id) }, limits);
}

/** Builds and validates a message envelope for a freshly assigned id. */
export function newMessageEnvelope(id: bigint, msg: NewMessage, limits: EnvelopeLimits = {}): MessageEvent {
  return newEventEnvelope(id, { ...msg, kind: 'message' }, limits) as MessageEvent;
}
