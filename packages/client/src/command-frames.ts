import { DEFAULT_MAX_BODY_BYTES, isBlankText, isEmoji, parseMessageId, utf8ByteLength, type CommandFrame } from '@parley/contracts';
import { SendError } from './errors.js';

/**
 * The frames of RoomSocket's commands, checked as the edge would check them (contracts'
 * frames.ts), so a command that cannot succeed is refused at once with SendError and never
 * waits in the queue: an empty or oversize body, a message id that is not one, a string that
 * is not exactly one emoji.
 */
export function commandFrame(
  cmd:
    | { type: 'send'; body: string; replyTo?: string | undefined }
    | { type: 'edit'; messageId: string; body: string }
    | { type: 'delete'; messageId: string }
    | { type: 'react'; messageId: string; emoji: string; on: boolean },
  clientMsgId: string,
  maxBodyBytes = DEFAULT_MAX_BODY_BYTES,
): CommandFrame {
  const target = cmd.type === 'send' ? cmd.replyTo : cmd.messageId;
  if (target !== undefined) requireMessageId(target, cmd.type === 'send' ? 'reply_to' : 'message id');
  if (cmd.type === 'send' || cmd.type === 'edit') requireBody(cmd.body, maxBodyBytes);
  switch (cmd.type) {
    case 'send':
      return { type: 'send', client_msg_id: clientMsgId, body: cmd.body, ...(cmd.replyTo !== undefined ? { reply_to: cmd.replyTo } : {}) };
    case 'edit':
      return { type: 'edit', message_id: cmd.messageId, body: cmd.body, client_msg_id: clientMsgId };
    case 'delete':
      return { type: 'delete', message_id: cmd.messageId, client_msg_id: clientMsgId };
    case 'react':
      if (!isEmoji(cmd.emoji)) throw new SendError('invalid_emoji', `${JSON.stringify(cmd.emoji.slice(0, 20))} is not exactly one emoji`);
      return { type: 'react', message_id: cmd.messageId, emoji: cmd.emoji, on: cmd.on, client_msg_id: clientMsgId };
  }
}

function requireMessageId(id: string, what: string): void {
  if (parseMessageId(id) === undefined) throw new SendError('invalid_message_id', `${what} ${JSON.stringify(id.slice(0, 30))} is not a message id (a positive decimal number)`);
}

function requireBody(body: string, maxBytes: number): void {
  const problem = checkBody(body, maxBytes);
  if (problem) throw new SendError(problem, problem === 'body_empty' ? 'the message has no visible text' : `the message is over ${maxBytes} bytes`);
}

/** Why the edge would refuse this body (docs/realtime.md), or undefined. */
export function checkBody(body: string, maxBytes = DEFAULT_MAX_BODY_BYTES): 'body_empty' | 'body_too_large' | undefined {
  if (isBlankText(body)) return 'body_empty';
  if (utf8ByteLength(body) > maxBytes) return 'body_too_large';
  return undefined;
}

/** 'c' and 24 hex digits from the platform's CSPRNG (browsers and Node 20 alike). */
export function newClientMsgId(): string {
  const bytes = globalThis.crypto.getRandomValues(new Uint8Array(12));
  return `c${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}
