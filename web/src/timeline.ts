import { compareIds, isNewerCopy, type Message } from '@parley/client';

export interface Entry {
  message: Message;
  /** Built from an ack before the room's own copy arrived; replaced by it. */
  provisional: boolean;
}

/**
 * The room's messages sorted by id. History, live frames, scroll-back pages, own acks and
 * `message_updated` all merge here by id, so an overlap between them never shows twice, and
 * of two copies of a message the newer one (larger changed_at) stays: a late REST page never
 * undoes an edit that arrived live.
 */
export class Timeline {
  private readonly byId = new Map<string, Entry>();
  private order: string[] = [];

  /** Adds a message, or replaces a provisional or older copy of it. False when nothing changed. */
  insert(message: Message, provisional = false): boolean {
    const known = this.byId.get(message.id);
    if (known) return !provisional && this.replace(known, message);
    this.place(message, provisional);
    return true;
  }

  /** A changed message replaces its copy, if held (an update of a message not loaded is not shown). */
  update(message: Message): boolean {
    const known = this.byId.get(message.id);
    return known !== undefined && this.replace(known, message);
  }

  get(id: string): Message | undefined {
    return this.byId.get(id)?.message;
  }

  get newestId(): string | undefined {
    return this.order.at(-1);
  }

  private replace(known: Entry, message: Message): boolean {
    if (!known.provisional && !isNewerCopy(known.message, message)) return false;
    this.byId.set(message.id, { message, provisional: false });
    return true;
  }

  private place(message: Message, provisional: boolean): void {
    let lo = 0;
    let hi = this.order.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (compareIds(this.order[mid]!, message.id) < 0) lo = mid + 1;
      else hi = mid;
    }
    this.order.splice(lo, 0, message.id);
    this.byId.set(message.id, { message, provisional });
  }

  has(id: string): boolean {
    return this.byId.has(id);
  }

  get oldestId(): string | undefined {
    return this.order[0];
  }

  get size(): number {
    return this.order.length;
  }

  entries(): Entry[] {
    return this.order.map((id) => this.byId.get(id)!);
  }

  clear(): void {
    this.byId.clear();
    this.order = [];
  }
}
