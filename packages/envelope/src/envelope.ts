import { DEFAULT_MAX_BODY_BYTES, ENVELOPE_VERSION, messageSchema, type Message } from '@parley/contracts';
import { ParleyError, type ErrorCode } from '@parley/errors';
import { timeOf } from './snowflake.js';

/**
 * The codec of the one message shape (its schema and layout: `messageSchema` in
 * @parley/contracts). The same UTF-8 JSON bytes travel as the JetStream message body and as the
 * Kafka record value; every hop decodes them with `decodeEnvelope` and nothing else.
 *
 * Decoding is strict: unknown fields, wrong types, invalid UTF-8 and lone surrogates are
 * rejected, so whatever passes can be written to Cassandra and Elasticsearch as is.
 */
export { DEFAULT_MAX_BODY_BYTES, ENVELOPE_VERSION, MESSAGE_KINDS, type MessageKind } from '@parley/contracts';
export type Envelope = Message;

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
  const parsed = messageSchema.safeParse(value);
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
