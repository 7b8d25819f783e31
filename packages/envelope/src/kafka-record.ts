import { ParleyError } from '@parley/errors';
import { ENVELOPE_VERSION, encodeEnvelope, type Envelope } from './envelope.js';

/**
 * Kafka records on `chat.messages`.
 *
 *   key      room_id (UTF-8)            one room → one partition → one order
 *   value    envelope JSON (UTF-8)      exactly the bytes of encodeEnvelope
 *   headers  v             "1"          envelope version, readable without parsing the value
 *            content-type  "application/json"
 *
 * Dead-letter records on `chat.messages.dlq` keep the original key and value untouched and add:
 *
 *   headers  dlq-reason    stable code: bad_json, unsupported_version, invalid_field,
 *                          body_too_large, too_large, bad_encoding, store_rejected, ...
 *            dlq-message   human readable detail (truncated to 1 KiB)
 *            dlq-source    where it came from: nats:<stream>:<seq> or kafka:<topic>:<partition>:<offset>
 *            dlq-service   which worker gave up on it
 *            dlq-at        epoch ms
 */
export const DEFAULT_TOPIC = 'chat.messages';
export const DEFAULT_DLQ_TOPIC = 'chat.messages.dlq';
export const CONTENT_TYPE = 'application/json';

export interface RecordOut {
  key: Buffer;
  value: Buffer;
  headers: Record<string, string>;
}

export function envelopeRecord(env: Envelope): RecordOut {
  return {
    key: Buffer.from(env.room_id, 'utf8'),
    value: Buffer.from(encodeEnvelope(env)),
    headers: { v: String(ENVELOPE_VERSION), 'content-type': CONTENT_TYPE },
  };
}

export interface DeadLetter {
  key: Buffer | null;
  value: Buffer | null;
  reason: string;
  message: string;
  source: string;
  service: string;
}

export function deadLetterRecord(d: DeadLetter, now: number = Date.now()): { key: Buffer | null; value: Buffer | null; headers: Record<string, string> } {
  return {
    key: d.key,
    value: d.value,
    headers: {
      'dlq-reason': d.reason,
      'dlq-message': d.message.slice(0, 1024),
      'dlq-source': d.source,
      'dlq-service': d.service,
      'dlq-at': String(now),
    },
  };
}

/** The reason code for a dead letter: an envelope rejection keeps its own, a store rejection its error code. */
export function rejectionReason(err: ParleyError): string {
  const reason = err.details?.['reason'];
  return typeof reason === 'string' ? reason : err.code.toLowerCase();
}
