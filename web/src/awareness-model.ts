import { ReadMarks, TypingTracker, typingLine, type Message, type PresenceMember, type RoomSocket, type User } from '@parley/client';
import { rest } from './api.js';

export interface AwarenessHooks {
  /** Something shown changed: the member list, the typing line or a read marker. */
  changed(): void;
  /** The edge's count of your unread messages in this room (after the join and each read). */
  unread(counts: { messages: number; mentions: number }): void;
  /** A live message arrived while the page was hidden: it is unread until the page is seen. */
  unseen(m: Message): void;
}

export interface Person {
  userId: string;
  name: string;
  online: boolean;
}

/**
 * Who is here and what they read, for the open room, on its RoomSocket: the members online
 * (the socket's roster) and others seen in it, who is typing (TypingTracker, redrawn when a name
 * expires), read marks (ReadMarks, from `receipts` and one `readers` answer for the reader's
 * latest message), and the reader's own mark, moved to the newest message whenever the page is
 * visible: a room on screen is read.
 */
export class AwarenessModel {
  private readonly typingNow = new TypingTracker();
  private readonly marks = new ReadMarks();
  private readonly names = new Map<string, string>();
  private expiry: ReturnType<typeof setTimeout> | undefined;
  private readonly onVisibility = () => this.readIfVisible();

  constructor(
    private readonly socket: RoomSocket,
    me: User,
    private readonly newest: () => { newestId: string | undefined; mineLatest: Message | undefined },
    private readonly hooks: AwarenessHooks,
  ) {
    const s = socket;
    s.on('presence', (p) => this.seen(p.online));
    s.on('presence_diff', (d) => this.seen([...d.joined, ...d.left]));
    s.on('typing', (t) => {
      this.names.set(t.userId, t.name);
      this.typingNow.typing(t.userId, t.name, Date.now());
      this.redrawTyping();
    });
    s.on('receipts', (r) => {
      if (this.marks.apply(r.items)) hooks.changed();
    });
    s.on('unread', (u) => hooks.unread({ messages: u.messages, mentions: u.mentions }));
    s.on('history', (h) => {
      for (const m of h.messages) this.names.set(m.sender_id, m.sender_name);
      this.readIfVisible();
      void this.loadReaders();
    });
    s.on('message', (m) => {
      this.names.set(m.sender_id, m.sender_name);
      this.typingNow.stopped(m.sender_id);
      if (document.visibilityState === 'visible') this.readIfVisible();
      else if (m.sender_id !== me.id) hooks.unseen(m);
      hooks.changed();
    });
    document.addEventListener('visibilitychange', this.onVisibility);
    window.addEventListener('focus', this.onVisibility);
  }

  stop(): void {
    clearTimeout(this.expiry);
    document.removeEventListener('visibilitychange', this.onVisibility);
    window.removeEventListener('focus', this.onVisibility);
  }

  /** Called on input in the composer; the socket sends at most one frame per throttle interval. */
  typing(): void {
    this.socket.typing();
  }

  /** Online members first (longest online first), then others seen in the room; the reader included. */
  people(): Person[] {
    const online = this.socket.online;
    const ids = new Set(online.map((m) => m.user_id));
    const others = [...this.names].filter(([id]) => !ids.has(id)).map(([userId, name]) => ({ userId, name, online: false }));
    return [...online.map((m) => ({ userId: m.user_id, name: m.name, online: true })), ...others.sort((a, b) => a.name.localeCompare(b.name))];
  }

  typingText(): string {
    return typingLine(this.typingNow.names(Date.now()));
  }

  /** "seen by Bob", "seen by 4": who read a message of the reader's (its author left out). */
  seenBy(m: Message): string {
    const readers = this.marks.readers(m.id, m.sender_id);
    if (readers.length === 0) return '';
    const named = readers.map((id) => this.names.get(id));
    return readers.length <= 3 && named.every((n) => n !== undefined) ? `seen by ${named.join(', ')}` : `seen by ${readers.length}`;
  }

  private seen(list: readonly PresenceMember[]): void {
    for (const m of list) this.names.set(m.user_id, m.name);
    this.hooks.changed();
  }

  private redrawTyping(): void {
    clearTimeout(this.expiry);
    this.hooks.changed();
    const next = this.typingNow.nextChange;
    if (next !== undefined) this.expiry = setTimeout(() => this.redrawTyping(), Math.max(0, next - Date.now()) + 10);
  }

  private readIfVisible(): void {
    const id = this.newest().newestId;
    if (document.visibilityState !== 'visible' || id === undefined || this.socket.state === 'closed') return;
    this.socket.markRead(id);
  }

  /** The readers of the reader's latest message when the room opens; receipts move them on. */
  private async loadReaders(): Promise<void> {
    const mine = this.newest().mineLatest;
    if (!mine) return;
    try {
      const r = await rest.readers(mine.room_id, mine.id);
      if (r.readers && this.marks.apply(r.readers.map((user_id) => ({ user_id, message_id: mine.id })))) this.hooks.changed();
    } catch {
      // Read markers are a nicety: without this answer, receipts still fill them in.
    }
  }
}
