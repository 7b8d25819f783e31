import { compareIds, type Message } from '@parley/client';

export interface Entry {
  message: Message;
  /** Built from an ack before the room's own copy arrived; replaced by it. */
  provisional: boolean;
}

/**
 * The room's messages sorted by id. History, live frames, scroll-back pages and own acks all
 * merge here by id, so an overlap between them never shows twice.
 */
export class Timeline {
  private readonly byId = new Map<string, Entry>();
  private order: string[] = [];

  /** Adds a message, or replaces a provisional one with the room's copy. False when nothing changed. */
  insert(message: Message, provisional = false): boolean {
    const known = this.byId.get(message.id);
    if (known) {
      if (!known.provisional || provisional) return false;
      this.byId.set(message.id, { message, provisional: false });
      return true;
    }
    let lo = 0;
    let hi = this.order.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (compareIds(this.order[mid]!, message.id) < 0) lo = mid + 1;
      else hi = mid;
    }
    this.order.splice(lo, 0, message.id);
    this.byId.set(message.id, { message, provisional });
    return true;
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
