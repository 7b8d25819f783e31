import type { Message, Unread, UnreadFrame } from '@parley/contracts';

export interface RoomUnread {
  messages: number;
  mentions: number;
}

/**
 * The reader's unread counts per room. The server's counts are the truth whenever they arrive
 * (`GET /v1/unread`, and the edge's `unread` frame after a join and after each read); between
 * them a client counts live messages itself, as the contracts say: a message that is not one's
 * own adds one, and one more mention when `mentions` holds the reader. The open, visible room
 * counts nothing: what is shown there is read.
 */
export class UnreadCounts {
  private readonly rooms = new Map<string, RoomUnread>();

  constructor(private readonly selfId: string) {}

  /** Replaces every room's counts with the server's (rooms not in the answer are dropped). */
  fromRest(u: Unread): void {
    this.rooms.clear();
    for (const r of u.rooms) this.rooms.set(r.room_id, { messages: r.messages, mentions: r.mentions });
  }

  fromFrame(f: UnreadFrame): void {
    this.rooms.set(f.room_id, { messages: f.messages, mentions: f.mentions });
  }

  /** A live message of a room that is not being read; returns whether a count moved. */
  live(m: Message): boolean {
    if (m.sender_id === this.selfId || m.kind !== 'message') return false;
    const r = this.rooms.get(m.room_id) ?? { messages: 0, mentions: 0 };
    this.rooms.set(m.room_id, { messages: r.messages + 1, mentions: r.mentions + (m.mentions?.includes(this.selfId) ? 1 : 0) });
    return true;
  }

  /** The reader saw everything in the room (its mark moves to the newest). */
  read(roomId: string): void {
    this.rooms.set(roomId, { messages: 0, mentions: 0 });
  }

  of(roomId: string): RoomUnread {
    return this.rooms.get(roomId) ?? { messages: 0, mentions: 0 };
  }
}
