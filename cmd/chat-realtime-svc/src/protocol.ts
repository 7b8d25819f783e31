import {
  CLIENT_MSG_ID_PATTERN,
  isEmoji,
  parseMessageId,
  containsNul,
  hasLoneSurrogate,
  isBlankText,
  type AckFrame,
  type ClientFrame,
  type ErrorFrame,
  type ErrorFrameCode,
  type HistoryUnavailableFrame,
  type MemberTypingFrame,
  type ReceiptsFrame,
  type UnreadFrame,
  type PresenceFrame,
  type PresenceDiffFrame,
  type PresenceMember,
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
  switch (obj['type']) {
    case 'typing': {
      const extra = Object.keys(obj).filter((k) => k !== 'type');
      return extra.length > 0 ? fail('invalid_frame', `unknown fields: ${extra.slice(0, 5).join(', ')}`) : { ok: true, frame: { type: 'typing' } };
    }
    case 'read': {
      const extra = Object.keys(obj).filter((k) => k !== 'type' && k !== 'message_id');
      if (extra.length > 0) return fail('invalid_frame', `unknown fields: ${extra.slice(0, 5).join(', ')}`);
      const id = obj['message_id'];
      if (typeof id !== 'string' || parseMessageId(id) === undefined) return fail('invalid_message_id', 'message_id must be a message id (positive int64 as a decimal string)');
      return { ok: true, frame: { type: 'read', message_id: id } };
    }
    case 'send':
    case 'edit':
    case 'delete':
    case 'react':
      return parseCommand(obj['type'], obj, maxBodyBytes);
    default:
      return fail('unknown_type', `unknown frame type ${JSON.stringify(obj['type'] ?? null).slice(0, 64)}`);
  }
}

/** The fields each command may carry besides `type` and `client_msg_id`. */
const COMMAND_FIELDS = {
  send: ['body', 'reply_to', 'retry'],
  edit: ['message_id', 'body'],
  delete: ['message_id'],
  react: ['message_id', 'emoji', 'on'],
} as const;

/** Checks in a fixed order, so a frame with several faults always gets the same code. */
function parseCommand(type: keyof typeof COMMAND_FIELDS, obj: Record<string, unknown>, maxBodyBytes: number): ParseResult {
  const allowed: readonly string[] = COMMAND_FIELDS[type];
  const extra = Object.keys(obj).filter((k) => k !== 'type' && k !== 'client_msg_id' && !allowed.includes(k));
  const id = obj['client_msg_id'];
  if (typeof id !== 'string' || !CLIENT_MSG_ID.test(id)) return fail('invalid_client_msg_id', 'client_msg_id must match [A-Za-z0-9_-]{1,64}');
  if (extra.length > 0) return fail('invalid_frame', `unknown fields: ${extra.slice(0, 5).join(', ')}`, id);
  const messageId = obj['message_id'];
  if (type !== 'send' && (typeof messageId !== 'string' || parseMessageId(messageId) === undefined)) {
    return fail('invalid_message_id', 'message_id must be a message id (positive int64 as a decimal string)', id);
  }
  const replyTo = obj['reply_to'];
  if (replyTo !== undefined && (typeof replyTo !== 'string' || parseMessageId(replyTo) === undefined)) {
    return fail('invalid_message_id', 'reply_to must be a message id (positive int64 as a decimal string)', id);
  }
  if (type === 'send' || type === 'edit') {
    const bad = checkBody(obj['body'], maxBodyBytes, id);
    if (bad) return bad;
  }
  const body = obj['body'] as string;
  const target = messageId as string;
  switch (type) {
    case 'send': {
      const retry = obj['retry'];
      if (retry !== undefined && retry !== true) return fail('invalid_frame', 'retry must be true or absent', id);
      return { ok: true, frame: { type, client_msg_id: id, body, ...(replyTo === undefined ? {} : { reply_to: replyTo as string }), ...(retry ? { retry: true as const } : {}) } };
    }
    case 'edit':
      return { ok: true, frame: { type, message_id: target, body, client_msg_id: id } };
    case 'delete':
      return { ok: true, frame: { type, message_id: target, client_msg_id: id } };
    case 'react': {
      const emoji = obj['emoji'];
      if (typeof emoji !== 'string' || emoji.length > 64 || !isEmoji(emoji)) return fail('invalid_emoji', 'emoji must be exactly one emoji', id);
      if (typeof obj['on'] !== 'boolean') return fail('invalid_frame', 'on must be true or false', id);
      return { ok: true, frame: { type, message_id: target, emoji, on: obj['on'], client_msg_id: id } };
    }
  }
}

function checkBody(body: unknown, maxBodyBytes: number, id: string): ParseResult | undefined {
  if (typeof body !== 'string') return fail('invalid_frame', 'body must be a string', id);
  if (isBlankText(body)) return fail('body_empty', 'body must have visible text (not only spaces, control or zero-width characters)', id);
  if (containsNul(body)) return fail('invalid_frame', 'body must not contain NUL', id);
  if (hasLoneSurrogate(body)) return fail('invalid_frame', 'body contains a lone surrogate', id);
  const size = Buffer.byteLength(body);
  if (size > maxBodyBytes) return fail('body_too_large', `body is ${size} bytes, limit ${maxBodyBytes}`, id);
  return undefined;
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

/** A change of a message: the whole state, as the reader sees it (`me` of reactions). */
export function messageUpdatedFrame(messageJson: string): string {
  return `{"type":"message_updated","message":${messageJson}}`;
}

export function memberTypingFrame(userId: string, name: string): string {
  return JSON.stringify({ type: 'typing', user_id: userId, name } satisfies MemberTypingFrame);
}

export function receiptsFrame(items: ReadonlyArray<{ user_id: string; message_id: string }>): string {
  return JSON.stringify({ type: 'receipts', items: [...items] } satisfies ReceiptsFrame);
}

export function presenceFrame(roomId: string, online: PresenceMember[]): string {
  return JSON.stringify({ type: 'presence', room_id: roomId, online } satisfies PresenceFrame);
}

export function presenceDiffFrame(joined: PresenceMember[], left: PresenceMember[]): string {
  return JSON.stringify({ type: 'presence_diff', joined, left } satisfies PresenceDiffFrame);
}

export function unreadFrame(roomId: string, messages: number, mentions: number): string {
  return JSON.stringify({ type: 'unread', room_id: roomId, messages, mentions } satisfies UnreadFrame);
}

export function historyUnavailableFrame(roomId: string, code: string): string {
  return JSON.stringify({ type: 'history_unavailable', room_id: roomId, code } satisfies HistoryUnavailableFrame);
}

export function roomDeletedFrame(roomId: string): string {
  return JSON.stringify({ type: 'room_deleted', room_id: roomId } satisfies RoomDeletedFrame);
}

export const PONG_FRAME = '{"type":"pong"}';
