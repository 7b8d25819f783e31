import { ENVELOPE_VERSION, type Message } from '@parley/contracts';
import type { ChatMessage } from './gen/parley/chat/v1/query.js';

/**
 * parley.chat.v1.ChatMessage <-> the contract's Message. proto3 has no absent scalars: 0 and ""
 * stand for an absent optional field, both ways. The kind is passed through as is, so a reader
 * that validates (the edge) refuses what is not a message.
 */
export function messageToProto(m: Message): ChatMessage {
  return {
    id: m.id,
    roomId: m.room_id,
    senderId: m.sender_id,
    senderName: m.sender_name,
    body: m.body,
    clientMsgId: m.client_msg_id,
    kind: m.kind,
    createdAt: m.created_at,
    replyTo: m.reply_to ?? '',
    mentions: m.mentions ?? [],
    version: m.version ?? 0,
    editedAt: m.edited_at ?? 0,
    deletedAt: m.deleted_at ?? 0,
    reactions: (m.reactions ?? []).map((r) => ({ emoji: r.emoji, count: r.count, me: r.me })),
    replyCount: m.reply_count ?? 0,
    lastReplyId: m.last_reply_id ?? '',
    changedAt: m.changed_at ?? 0,
  };
}

/** The message a row describes, in the contract's field order; not validated here. */
export function messageFromProto(p: ChatMessage): Message {
  const m: Record<string, unknown> = {
    v: ENVELOPE_VERSION,
    id: p.id,
    room_id: p.roomId,
    sender_id: p.senderId,
    sender_name: p.senderName,
    body: p.body,
    client_msg_id: p.clientMsgId,
    kind: p.kind,
    created_at: Number(p.createdAt),
  };
  if (p.replyTo) m['reply_to'] = p.replyTo;
  if (p.mentions.length > 0) m['mentions'] = p.mentions;
  if (p.version) m['version'] = p.version;
  if (p.editedAt) m['edited_at'] = Number(p.editedAt);
  if (p.deletedAt) m['deleted_at'] = Number(p.deletedAt);
  if (p.reactions.length > 0) m['reactions'] = p.reactions.map((r) => ({ emoji: r.emoji, count: r.count, me: r.me }));
  if (p.replyCount) m['reply_count'] = p.replyCount;
  if (p.lastReplyId) m['last_reply_id'] = p.lastReplyId;
  if (p.changedAt) m['changed_at'] = Number(p.changedAt);
  return m as Message;
}
