import {
  CLIENT_MSG_ID_PATTERN,
  containsNul,
  hasLoneSurrogate,
  isBlankText,
  type AckFrame,
  type ClientFrame,
  type ErrorFrame,
  type ErrorFrameCode,
  type HistoryUnavailableFrame,
  type RoomDeletedFrame,
} from '@parley/contracts';
/**
 * The edge's side of the WebSocket protocol (frames, codes and close codes: @parley/contracts
 * frames.ts). Inbound frames are parsed by hand into the contract's types, so each fault gets
 * its own stable error code; outbound frames are written by hand so a live message's stored
 * bytes are spliced in without re-encoding. test/protocol.test.ts holds both to the schemas.
 */
export type ParseResult = { ok: true; frame: ClientFrame } | { ok: false; code: ErrorFrameCode; message: string; client_msg_id?: string };

const CLIENT_MSG_ID = CLIENT_MSG_ID_PATTERN;
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Turns one inbound frame into a ClientFrame or a stable error code. Pure and total: whatever
 * the bytes, it returns; the caller decides about strikes and closing.
 */
export function parseClientFrame(data: ArrayBuffer, isBinary: boolean, maxBodyBytes: number): ParseResult {
  if (isBinary) return fail('binary_not_supported', 'binary frames are not supported; send UTF-8 JSON text');
  let text: string;
  try {
    text = strictUtf8.decode(data);
  } catch {
    return fail('invalid_json', 'frame is not valid UTF-8');
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return fail('invalid_json', 'frame is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return fail('invalid_frame', 'frame must be a JSON object');
  const obj = value as Record<string, unknown>;
  if (obj['type'] === 'ping') {
    const extra = Object.keys(obj).filter((k) => k !== 'type');
    return extra.length > 0 ? fail('invalid_frame', `unknown fields: ${extra.slice(0, 5).join(', ')}`) : { ok: true, frame: { type: 'ping' } };
  }
  if (obj['type'] !== 'send') return fail('unknown_type', `unknown frame type ${JSON.stringify(obj['type'] ?? null).slice(0, 64)}`);
  return parseSend(obj, maxBodyBytes);
}

function parseSend(obj: Record<string, unknown>, maxBodyBytes: number): ParseResult {
  const extra = Object.keys(obj).filter((k) => k !== 'type' && k !== 'client_msg_id' && k !== 'body');
  const id = obj['client_msg_id'];
  if (typeof id !== 'string' || !CLIENT_MSG_ID.test(id)) return fail('invalid_client_msg_id', 'client_msg_id must match [A-Za-z0-9_-]{1,64}');
  if (extra.length > 0) return fail('invalid_frame', `unknown fields: ${extra.slice(0, 5).join(', ')}`, id);
  const body = obj['body'];
  if (typeof body !== 'string') return fail('invalid_frame', 'body must be a string', id);
  if (isBlankText(body)) return fail('body_empty', 'body must have visible text (not only spaces, control or zero-width characters)', id);
  if (containsNul(body)) return fail('invalid_frame', 'body must not contain NUL', id);
  if (hasLoneSurrogate(body)) return fail('invalid_frame', 'body contains a lone surrogate', id);
  const size = Buffer.byteLength(body);
  if (size > maxBodyBytes) return fail('body_too_large', `body is ${size} bytes, limit ${maxBodyBytes}`, id);
  return { ok: true, frame: { type: 'send', client_msg_id: id, body } };
}

function fail(code: ErrorFrameCode, message: string, clientMsgId?: string): ParseResult {
  return clientMsgId === undefined ? { ok: false, code, message } : { ok: false, code, message, client_msg_id: clientMsgId };
}

/** `retryAfterMs`: for rate_limited, how long until the window resets and a send can succeed. */
export function errorFrame(code: ErrorFrameCode, message: string, clientMsgId?: string, retryAfterMs?: number): string {
  return JSON.stringify({
    type: 'error',
    code,
    message,
    ...(clientMsgId === undefined ? {} : { client_msg_id: clientMsgId }),
    ...(retryAfterMs === undefined ? {} : { retry_after_ms: Math.max(0, Math.ceil(retryAfterMs)) }),
  } satisfies ErrorFrame);
}

export function ackFrame(clientMsgId: string, id: string): string {
  return JSON.stringify({ type: 'ack', client_msg_id: clientMsgId, id } satisfies AckFrame);
}

/** A live frame built around the stored envelope bytes: serialized once per room, not per socket. */
export function messageFrame(envelopeJson: string): string {
  return `{"type":"message","message":${envelopeJson}}`;
}

export function historyFrame(roomId: string, envelopeJsons: readonly string[], hasMore: boolean): string {
  return `{"type":"history","room_id":${JSON.stringify(roomId)},"messages":[${envelopeJsons.join(',')}],"has_more":${hasMore}}`;
}

export function historyUnavailableFrame(roomId: string, code: string): string {
  return JSON.stringify({ type: 'history_unavailable', room_id: roomId, code } satisfies HistoryUnavailableFrame);
}

export function roomDeletedFrame(roomId: string): string {
  return JSON.stringify({ type: 'room_deleted', room_id: roomId } satisfies RoomDeletedFrame);
}

export const PONG_FRAME = '{"type":"pong"}';
