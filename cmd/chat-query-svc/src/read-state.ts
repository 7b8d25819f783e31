import { ParleyError } from '@parley/errors';
import type { RoomAccess } from './access.js';
import type { MessageSearch } from './elastic-message-search.js';
import type { MessageReads } from './message-reads.js';

export interface ReadState {
  readUpTo: bigint | undefined;
  messages: number;
  mentions: number;
}

/**
 * A member's read mark of a room and what is unread after it: the one implementation behind
 * REST `PUT /v1/rooms/{roomId}/read` and gRPC MarkRead / RoomUnread (the edge's `read` frame and
 * its `unread` frames).
 */
export class ReadMarks {
  constructor(private readonly deps: { access: RoomAccess; reads: MessageReads; search: MessageSearch }) {}

  /** NOT_FOUND unless `messageId` is a message of this room; then the mark moves forward (only). */
  async mark(token: string, roomId: string, messageId: bigint): Promise<{ userId: string; readUpTo: bigint }> {
    const { access, reads } = this.deps;
    const { userId } = await access.authorize(token, roomId);
    if (!(await reads.one(roomId, messageId))) throw new ParleyError('NOT_FOUND', 'no such message in this room (yet)');
    return { userId, readUpTo: await reads.markRead(roomId, userId, messageId) };
  }

  async state(userId: string, roomId: string, known?: bigint): Promise<ReadState> {
    const readUpTo = known ?? (await this.deps.reads.mark(userId, roomId));
    const counts = (await this.deps.search.unread(userId, [{ roomId, after: readUpTo }])).get(roomId) ?? { messages: 0, mentions: 0 };
    return { readUpTo, ...counts };
  }
}
