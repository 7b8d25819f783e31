import { compareIds, newerId } from './message-ids.js';

/**
 * Members' read marks in one room, from the edge's `receipts` frames (and a REST `readers`
 * answer as a start): each user's newest mark, which only moves forward, so a late or repeated
 * item never moves one back.
 */
export class ReadMarks {
  private readonly marks = new Map<string, string>();

  /** Returns whether any mark moved. */
  apply(items: ReadonlyArray<{ user_id: string; message_id: string }>): boolean {
    let moved = false;
    for (const { user_id, message_id } of items) {
      const had = this.marks.get(user_id);
      const now = newerId(had, message_id);
      if (now !== had) {
        this.marks.set(user_id, message_id);
        moved = true;
      }
    }
    return moved;
  }

  /** Users (but `except`, the author) whose mark is at or after the message. */
  readers(messageId: string, except: string): string[] {
    return [...this.marks].filter(([u, mark]) => u !== except && compareIds(mark, messageId) >= 0).map(([u]) => u);
  }

  of(userId: string): string | undefined {
    return this.marks.get(userId);
  }
}
